using System.Net;
using System.Text.Encodings.Web;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Features;
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
        var passThrough = IsOciErrorJson(error.UpstreamBody, out var upstreamMessage);
        response.ContentType = passThrough ? error.UpstreamContentType ?? "application/json" : "application/json";
        var body = passThrough ? error.UpstreamBody! : Serialize(error);
        if (passThrough && upstreamMessage is not null && context.Features.Get<IHttpResponseFeature>() is { } feature)
        {
            // containerd resolves with HEAD, which has no body, and reports only the status line: the registry's message
            // (Harbor's policy text) travels in the reason phrase so that it reaches the kubelet's event.
            feature.ReasonPhrase = ReasonPhrase.With(response.StatusCode, upstreamMessage);
        }
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
    // The first error's "CODE: message", when there is one.
    private static bool IsOciErrorJson(string? body, out string? message)
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
