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

    /// <summary>
    /// Runs <paramref name="handle"/>; a failure it did not expect is logged and answered with a 500 in the spec's format, or
    /// with a broken connection once the response has started, so that no client takes a cut body for a whole one.
    /// </summary>
    public static async Task AnswerFailuresAsync(HttpContext context, Func<HttpContext, Task> handle, ILogger logger)
    {
        try
        {
            await handle(context).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
        }
        catch (Exception ex)
        {
            logger.LogError(ex, "{Method} {Path}{Query} failed", context.Request.Method, context.Request.Path, context.Request.QueryString);
            if (context.Response.HasStarted)
            {
                context.Abort();
                return;
            }
            context.Response.Clear();
            await WriteAsync(context, MirrorFailure.Internal, OciErrorCode.Unknown, "internal error; see the agent's log").ConfigureAwait(false);
        }
    }

    public static Task WriteAsync(HttpContext context, MirrorFailure failure, string code, string message) =>
        WriteAsync(context, new MirrorError(failure, code, message));

    public static Task WriteAsync(HttpContext context, MirrorError error)
    {
        var answer = Of(error);
        var response = context.Response;
        response.StatusCode = answer.Status;
        response.ContentType = answer.ContentType;
        if (answer.ReasonPhrase is { } reason && context.Features.Get<IHttpResponseFeature>() is { } feature)
        {
            feature.ReasonPhrase = reason;
        }
        response.ContentLength = answer.Body.Length;
        return HttpMethods.IsHead(context.Request.Method) ? Task.CompletedTask : response.Body.WriteAsync(answer.Body, context.RequestAborted).AsTask();
    }

    /// <summary>The status line, content type and body that answer <paramref name="error"/>, however the response is written.</summary>
    public static OciErrorAnswer Of(MirrorError error)
    {
        ArgumentNullException.ThrowIfNull(error);
        var status = FailureStatus.Of(error);
        // An upstream's own error body (Harbor's policy message, say) is passed on as it is when it is the spec's format.
        if (OciErrorBody.TryRead(error.UpstreamBody, out var upstreamMessage))
        {
            // containerd resolves with HEAD, which has no body, and reports only the status line: the registry's message
            // (Harbor's policy text) travels in the reason phrase so that it reaches the kubelet's event.
            return new OciErrorAnswer(
                status, error.UpstreamContentType ?? "application/json", System.Text.Encoding.UTF8.GetBytes(error.UpstreamBody!),
                upstreamMessage is null ? null : ReasonPhrase.With(status, upstreamMessage));
        }
        // skopeo, like containerd, prints only the status line: a failure of the agent's own (an upstream it cannot reach,
        // and why) says what to do there too.
        return new OciErrorAnswer(status, "application/json", Serialize(error), status >= 500 ? ReasonPhrase.With(status, error.Message) : null);
    }

    private static byte[] Serialize(MirrorError error)
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
        return buffer.ToArray();
    }
}

/// <summary>An OCI error as it goes on the wire.</summary>
/// <param name="ReasonPhrase">A reason phrase that carries the upstream's message; null for the standard one.</param>
internal sealed record OciErrorAnswer(int Status, string ContentType, byte[] Body, string? ReasonPhrase);
