using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;
using NodeCache.Access;
using NodeCache.Agent.Configuration;
using NodeCache.Upstream;

namespace NodeCache.Agent.Registry;

/// <summary>
/// The connection-level fast path: recognises a plain HTTP/1.1 blob GET at the connection and hands it to
/// <see cref="BlobResponder"/> with a <see cref="SocketBlobResponse"/>, so a warm blob goes from the page cache to the
/// socket by sendfile without passing through Kestrel, whose own SendFileAsync copies it through user space (perf/RESULTS.md#warm-blobs-at-the-connection-sendfile). Anything else (another method, a Range, a conditional, an encoded path, a body,
/// a manifest) goes to Kestrel's HTTP pipeline on the same connection, untouched, and stays there.
/// </summary>
internal sealed class SendfileConnection(
    BlobResponder blobs, UpstreamRules rules, AgentOptions options, IOptions<KestrelServerOptions> kestrel, IHostApplicationLifetime lifetime)
{
    // A containerd blob GET has a head of about 300 bytes; one that does not fit here is left to Kestrel.
    private const int MaxHeadBytes = 8 * 1024;

    // Kestrel's default keep-alive timeout: an idle connection is closed after the same wait either way.
    private static readonly TimeSpan KeepAlive = TimeSpan.FromSeconds(130);

    private static ReadOnlySpan<byte> EndOfHead => "\r\n\r\n"u8;

    public async Task HandleAsync(ConnectionContext connection, ConnectionDelegate next)
    {
        var socket = connection.Features.Get<IConnectionSocketFeature>()?.Socket;
        if (socket is null)
        {
            await next(connection).ConfigureAwait(false);
            return;
        }
        var input = connection.Transport.Input;
        // Kestrel's head timeout does not run while this middleware reads the head, so it keeps the same one itself:
        // a client that trickles a head is closed, as Kestrel would close it.
        var headTimeout = kestrel.Value.Limits.RequestHeadersTimeout;
        var headStarted = (long?)null;
        while (true)
        {
            ReadResult result;
            // Between requests a stopping agent closes the connection, as Kestrel closes its idle keep-alive connections.
            using (var idle = CancellationTokenSource.CreateLinkedTokenSource(connection.ConnectionClosed, headStarted is null ? lifetime.ApplicationStopping : default))
            {
                idle.CancelAfter(headStarted is { } started ? TimeSpan.FromTicks(Math.Max(0, (headTimeout - System.Diagnostics.Stopwatch.GetElapsedTime(started)).Ticks)) : KeepAlive);
                try
                {
                    result = await input.ReadAsync(idle.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
            var buffer = result.Buffer;
            // Only a GET is answered here: anything else (another method, a TLS ClientHello from a client probing for
            // HTTPS, garbage) goes to Kestrel at its first bytes, which answers it at once instead of after a head timeout.
            if (!StartsLikeGet(buffer))
            {
                await HandOverAsync(input, buffer, connection, next).ConfigureAwait(false);
                return;
            }
            if (!TryTakeHead(buffer, out var head, out var afterHead))
            {
                if (buffer.IsEmpty && result.IsCompleted)
                {
                    return;
                }
                if (result.IsCompleted || buffer.Length >= MaxHeadBytes)
                {
                    await HandOverAsync(input, buffer, connection, next).ConfigureAwait(false);
                    return;
                }
                headStarted ??= System.Diagnostics.Stopwatch.GetTimestamp();
                input.AdvanceTo(buffer.Start, buffer.End);
                continue;
            }
            headStarted = null;
            if (!TryRecognise(head, out var request, out var close))
            {
                await HandOverAsync(input, buffer, connection, next).ConfigureAwait(false);
                return;
            }
            input.AdvanceTo(afterHead);
            var response = new SocketBlobResponse(
                socket, connection.Transport.Output, close, (connection.RemoteEndPoint as System.Net.IPEndPoint)?.Address, connection.ConnectionClosed);
            try
            {
                await blobs.ServeAsync(request, response).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (connection.ConnectionClosed.IsCancellationRequested)
            {
                return;
            }
            if (response.Broken || close)
            {
                return;
            }
        }
    }

    // Nothing of the request is consumed: Kestrel reads it from the start, as if this middleware were not there.
    private static Task HandOverAsync(PipeReader input, ReadOnlySequence<byte> buffer, ConnectionContext connection, ConnectionDelegate next)
    {
        input.AdvanceTo(buffer.Start);
        return next(connection);
    }

    // True while the bytes so far could still be the start of "GET ": an empty buffer, "G", "GE", "GET", or "GET ...".
    private static bool StartsLikeGet(ReadOnlySequence<byte> buffer)
    {
        var method = "GET "u8;
        Span<byte> start = stackalloc byte[4];
        var length = (int)Math.Min(buffer.Length, method.Length);
        buffer.Slice(0, length).CopyTo(start);
        return start[..length].SequenceEqual(method[..length]);
    }

    private static bool TryTakeHead(ReadOnlySequence<byte> buffer, out string head, out SequencePosition afterHead)
    {
        head = "";
        afterHead = default;
        var reader = new SequenceReader<byte>(buffer);
        if (!reader.TryReadTo(out ReadOnlySequence<byte> headBytes, EndOfHead) || headBytes.Length > MaxHeadBytes)
        {
            return false;
        }
        head = Encoding.Latin1.GetString(headBytes);
        afterHead = reader.Position;
        return true;
    }

    /// <summary>True for a blob GET this path answers: HTTP/1.1, no body, no Range or condition, the plain path containerd sends.</summary>
    private bool TryRecognise(string head, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out RegistryRequest? request, out bool close)
    {
        close = false;
        request = null;
        var lines = head.Split("\r\n");
        var requestLine = lines[0].Split(' ');
        if (requestLine.Length != 3 || requestLine[0] != "GET" || requestLine[2] != "HTTP/1.1")
        {
            return false;
        }
        var target = requestLine[1];
        // Percent-encoding and the rest are Kestrel's to decode; only the plain form containerd sends is taken here.
        if (!target.StartsWith("/v2/", StringComparison.Ordinal) || target.AsSpan().IndexOfAny('%', '#', '+') >= 0)
        {
            return false;
        }
        var hasHost = false;
        foreach (var line in lines.AsSpan(1))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0)
            {
                return false;
            }
            var name = line.AsSpan(0, colon).Trim();
            var value = line.AsSpan(colon + 1).Trim();
            if (name.Equals("host", StringComparison.OrdinalIgnoreCase))
            {
                hasHost = true;
            }
            else if (name.Equals("connection", StringComparison.OrdinalIgnoreCase))
            {
                close |= value.Contains("close", StringComparison.OrdinalIgnoreCase);
            }
            else if (name.Equals("content-length", StringComparison.OrdinalIgnoreCase) ? !value.SequenceEqual("0")
                : name.StartsWith("if-", StringComparison.OrdinalIgnoreCase) || IsAny(name, "range", "transfer-encoding", "expect", "upgrade"))
            {
                return false;
            }
        }
        var query = target.IndexOf('?', StringComparison.Ordinal);
        var path = query < 0 ? target["/v2".Length..] : target["/v2".Length..query];
        var ns = query < 0 ? null : QueryValue(target.AsSpan(query + 1), "ns");
        // A request that does not decode (an invalid digest, an unknown registry) is Kestrel's to answer with its error.
        return hasHost
            && RegistryRequest.TryDecode(path, ns, options.DefaultRegistry, rules, out _, out request, out _)
            && request.Resource == RegistryResource.Blob;
    }

    private static string? QueryValue(ReadOnlySpan<char> query, string key)
    {
        foreach (var range in query.Split('&'))
        {
            var pair = query[range];
            if (pair.StartsWith(key, StringComparison.Ordinal) && pair.Length > key.Length && pair[key.Length] == '=')
            {
                return pair[(key.Length + 1)..].ToString();
            }
        }
        return null;
    }

    private static bool IsAny(ReadOnlySpan<char> name, params ReadOnlySpan<string> candidates)
    {
        foreach (var candidate in candidates)
        {
            if (name.Equals(candidate, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }
        return false;
    }
}
