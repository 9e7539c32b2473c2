using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;
using NodeCache.Access;
using NodeCache.Agent.Configuration;
using NodeCache.Oci;
using NodeCache.Pulls;
using NodeCache.Store.Blobs;
using NodeCache.Telemetry;
using NodeCache.Upstream;

namespace NodeCache.Agent.Registry;

/// <summary>
/// Answers plain HTTP/1.1 GETs of whole cached blobs at the connection with the kernel's sendfile, so a warm blob goes
/// from the page cache to the socket without passing through the process; Kestrel's own SendFileAsync copies it through
/// user space, which the side-by-side harness measured at 0.69× nginx's static sendfile. Anything else (another method,
/// a Range, a conditional, an encoded path, a body, a miss) goes to Kestrel's HTTP pipeline on the same connection,
/// untouched, and stays there.
/// </summary>
internal sealed class SendfileConnection(
    BlobStore store, UpstreamRules rules, AgentOptions options, PrivateImagePolicy privateImages, MirrorMetrics metrics, PullTracker pulls,
    IOptions<KestrelServerOptions> kestrel, ILogger<SendfileConnection> logger)
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
            using (var idle = CancellationTokenSource.CreateLinkedTokenSource(connection.ConnectionClosed))
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
            if (!TryFindCachedBlob(head, out var blob, out var close, out var request))
            {
                await HandOverAsync(input, buffer, connection, next).ConfigureAwait(false);
                return;
            }
            // A blob being evicted right now is left to Kestrel's path, which sees the miss it has become.
            if (!store.Leases.TryAcquire(blob.Digest, out var lease))
            {
                await HandOverAsync(input, buffer, connection, next).ConfigureAwait(false);
                return;
            }
            // Evicted between the lookup and the lease: the lease now keeps any later removal off, but this one is done.
            if (!store.Contains(blob.Digest))
            {
                lease.Dispose();
                await HandOverAsync(input, buffer, connection, next).ConfigureAwait(false);
                return;
            }
            input.AdvanceTo(afterHead);
            bool sent;
            using (lease)
            using (var pull = pulls.Begin(PullFeature.Peer((connection.RemoteEndPoint as System.Net.IPEndPoint)?.Address), request.Route.Registry, request.Repository, request.Reference))
            {
                sent = await SendfileResponse.SendAsync(socket, blob, range: null, close, metrics, logger, connection.ConnectionClosed).ConfigureAwait(false);
                pull.Served(fromCache: true, sent ? blob.Size : 0);
                pull.Succeeded();
            }
            metrics.Request("blob", sent ? "hit" : "error");
            if (!sent || close)
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

    /// <summary>True for a whole-blob GET this path can answer: HTTP/1.1, no body, no Range or condition, a cached blob.</summary>
    private bool TryFindCachedBlob(string head, out CachedBlob blob, out bool close, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out RegistryRequest? request)
    {
        blob = default;
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
        return hasHost
            && RegistryRequest.TryDecode(path, ns, options.DefaultRegistry, rules, out _, out request, out _)
            && request.Resource == RegistryResource.Blob
            && privateImages.IsKnownServable(request.Route.Registry, request.Repository)
            && store.TryGet(Digest.Parse(request.Reference), out blob);
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
