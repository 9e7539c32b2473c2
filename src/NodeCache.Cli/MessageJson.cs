using System.Collections;
using System.Text.Json;
using Google.Protobuf;
using Google.Protobuf.Reflection;

namespace NodeCache.Cli;

/// <summary>
/// A control API message as <c>-o json</c> prints it: protobuf's JSON mapping (lowerCamelCase names, enums by name,
/// timestamps and durations as text, default values written), except that 64-bit integers are JSON numbers rather than
/// strings, so a script reads a byte count as the number it is. A double holds them exactly up to 2^53: 8 PiB.
/// </summary>
internal static class MessageJson
{
    private static readonly JsonFormatter WellKnown = new(JsonFormatter.Settings.Default);

    public static string Format(IMessage message)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            Write(json, message);
        }
        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }

    private static void Write(Utf8JsonWriter json, IMessage message)
    {
        if (message.Descriptor.File.Package == "google.protobuf")
        {
            json.WriteRawValue(WellKnown.Format(message));
            return;
        }
        json.WriteStartObject();
        foreach (var field in message.Descriptor.Fields.InFieldNumberOrder())
        {
            // A message, an optional or a oneof member that is not set is left out, as protobuf's own formatter does.
            if (field.HasPresence && !field.Accessor.HasValue(message))
            {
                continue;
            }
            json.WritePropertyName(field.JsonName);
            var value = field.Accessor.GetValue(message);
            if (field.IsMap)
            {
                json.WriteStartObject();
                foreach (DictionaryEntry entry in (IDictionary)value)
                {
                    json.WritePropertyName(Convert.ToString(entry.Key, System.Globalization.CultureInfo.InvariantCulture)!);
                    WriteValue(json, field.MessageType.FindFieldByNumber(2), entry.Value);
                }
                json.WriteEndObject();
            }
            else if (field.IsRepeated)
            {
                json.WriteStartArray();
                foreach (var item in (IList)value)
                {
                    WriteValue(json, field, item);
                }
                json.WriteEndArray();
            }
            else
            {
                WriteValue(json, field, value);
            }
        }
        json.WriteEndObject();
    }

    private static void WriteValue(Utf8JsonWriter json, FieldDescriptor field, object? value)
    {
        switch (field.FieldType)
        {
            case FieldType.Message or FieldType.Group:
                if (value is IMessage message)
                {
                    Write(json, message);
                }
                else
                {
                    json.WriteNullValue();
                }
                break;
            case FieldType.Enum:
                var number = Convert.ToInt32(value, System.Globalization.CultureInfo.InvariantCulture);
                if (field.EnumType.FindValueByNumber(number) is { } named)
                {
                    json.WriteStringValue(named.Name);
                }
                else
                {
                    json.WriteNumberValue(number);
                }
                break;
            case FieldType.String:
                json.WriteStringValue((string)value!);
                break;
            case FieldType.Bytes:
                json.WriteStringValue(((ByteString)value!).ToBase64());
                break;
            case FieldType.Bool:
                json.WriteBooleanValue((bool)value!);
                break;
            case FieldType.Double or FieldType.Float:
                var real = Convert.ToDouble(value, System.Globalization.CultureInfo.InvariantCulture);
                if (double.IsFinite(real))
                {
                    json.WriteNumberValue(real);
                }
                else
                {
                    json.WriteStringValue(double.IsNaN(real) ? "NaN" : real > 0 ? "Infinity" : "-Infinity");
                }
                break;
            case FieldType.UInt64 or FieldType.Fixed64:
                json.WriteNumberValue(Convert.ToUInt64(value, System.Globalization.CultureInfo.InvariantCulture));
                break;
            default:
                json.WriteNumberValue(Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture));
                break;
        }
    }
}
