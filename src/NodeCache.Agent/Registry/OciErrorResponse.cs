using System.Net;
using System.Text.Encodings.Web;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Features;
using NodeCache.Mirror;
using NodeCache.Oci;

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
        // An upstream's own error body (Harbor's policy message, say) is passed on as it is when it is the spec's format.
        var passThrough = OciErrorBody.TryRead(error.UpstreamBody, out var upstreamMessage);
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
}
