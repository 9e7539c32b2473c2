using System.Net;
using System.Text.Encodings.Web;
using System.Text.Json;
using NodeCache.Mirror;

namespace NodeCache.Agent.Registry;

/// <summary>Writes the distribution spec's error body: <c>{"errors":[{"code","message","detail"}]}</c>.</summary>
internal static class OciErrorResponse
{
    // Messages quote names with apostrophes; keep them readable (control characters are still escaped).
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static Task WriteAsync(HttpContext context, HttpStatusCode status, string code, string message) =>
        WriteAsync(context, new MirrorError(status, code, message));

    public static Task WriteAsync(HttpContext context, MirrorError error)
    {
        var response = context.Response;
        response.StatusCode = (int)error.Status;
        response.ContentType = "application/json";
        var body = IsOciErrorJson(error.UpstreamBody) ? error.UpstreamBody! : Serialize(error);
        response.ContentLength = System.Text.Encoding.UTF8.GetByteCount(body);
        return HttpMethods.IsHead(context.Request.Method) ? Task.CompletedTask : response.WriteAsync(body, context.RequestAborted);
    }

    private static string Serialize(MirrorError error)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, WriterOptions))
        {
            json.WriteStartObject();
            json.WriteStartArray("errors");
            json.WriteStartObject();
            json.WriteString("code", error.Code);
            json.WriteString("message", error.Message);
            json.WriteEndObject();
            json.WriteEndArray();
            json.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }

    // An upstream's own error body (Harbor's policy message, say) is passed on as it is when it is the spec's format.
    private static bool IsOciErrorJson(string? body)
    {
        if (string.IsNullOrEmpty(body))
        {
            return false;
        }
        try
        {
            using var document = JsonDocument.Parse(body);
            return document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty("errors", out var errors)
                && errors.ValueKind == JsonValueKind.Array;
        }
        catch (JsonException)
        {
            return false;
        }
    }
}
