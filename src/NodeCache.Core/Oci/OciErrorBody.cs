using System.Text.Json;

namespace NodeCache.Oci;

/// <summary>A registry's error body in the distribution spec's format, <c>{"errors":[{"code","message","detail"}]}</c>.</summary>
public static class OciErrorBody
{
    /// <summary>True when <paramref name="body"/> is in the spec's format; <paramref name="message"/> is then its first error's <c>CODE: message</c>, when it has one.</summary>
    public static bool TryRead(string? body, out string? message)
    {
        message = null;
        if (string.IsNullOrEmpty(body))
        {
            return false;
        }
        try
        {
            using var document = JsonDocument.Parse(body);
            if (document.RootElement.ValueKind != JsonValueKind.Object
                || !document.RootElement.TryGetProperty("errors", out var errors)
                || errors.ValueKind != JsonValueKind.Array)
            {
                return false;
            }
            if (errors.GetArrayLength() > 0 && errors[0] is { ValueKind: JsonValueKind.Object } first
                && first.TryGetProperty("message", out var text) && text.ValueKind == JsonValueKind.String)
            {
                message = first.TryGetProperty("code", out var code) && code.ValueKind == JsonValueKind.String
                    ? $"{code.GetString()}: {text.GetString()}"
                    : text.GetString();
            }
            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }
}
