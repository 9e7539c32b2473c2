using System.Net;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using NodeCache.Oci;

namespace NodeCache.Testing;

/// <summary>What <see cref="FaultProxy"/> does to the body of a successful blob GET.</summary>
public enum FaultMode
{
    /// <summary>Forwards the body as the registry sent it.</summary>
    Healthy,

    /// <summary>Flips the bits of the byte in the middle of the body; Content-Length stays right.</summary>
    Corrupt,

    /// <summary>Announces the full Content-Length, sends the first half and closes the connection.</summary>
    Truncate,

    /// <summary>Announces a Content-Length <see cref="FaultProxy.LengthError"/> bytes short and sends that many bytes: a consistent response of the wrong blob size.</summary>
    ShortLength,

    /// <summary>Sends no Content-Length (chunked) and <see cref="FaultProxy.LengthError"/> extra bytes after the blob.</summary>
    ExtraBytes,
}

/// <summary>One request the proxy forwarded, with the registry's status (0 when the registry gave no answer) and the client's Accept.</summary>
public sealed partial record ProxiedRequest(string Method, string PathAndQuery, int Status, string? Accept = null)
{
    /// <summary>The digest of a <c>/v2/&lt;name&gt;/blobs/&lt;digest&gt;</c> request, or null.</summary>
    public string? BlobDigest => DigestOf(PathAndQuery);

    public bool IsBlobGet(Digest digest) => Method == "GET" && BlobDigest == digest.ToString();

    public static string? DigestOf(string pathAndQuery) =>
        BlobRoute().Match(pathAndQuery) is { Success: true } match ? match.Groups["digest"].Value : null;

    [GeneratedRegex("^/v2/.+/blobs/(?<digest>sha256:[0-9a-f]{64}|sha512:[0-9a-f]{128})(\\?.*)?$")]
    private static partial Regex BlobRoute();
}

/// <summary>
/// An in-process reverse proxy (Kestrel on 127.0.0.1, a free port) in front of a registry, for tests that need an upstream
/// that misbehaves on purpose: blob bodies can be corrupted, cut short or mis-sized (<see cref="Mode"/>), forwarded at a
/// limited rate (<see cref="BytesPerSecond"/>), held part way until the test lets them go (<see cref="HoldAt"/>), answered
/// with an error status (<see cref="FailBlobGets"/>), or the proxy can go down altogether (<see cref="GoDownAsync"/>).
/// Everything else (manifests, HEADs, errors) passes through unchanged, except that it can act as Harbor's project
/// policies do (<see cref="DenyManifest"/>: <c>412 PROJECTPOLICYVIOLATION</c> for a manifest, by tag or by digest) or as
/// a failing Harbor (<see cref="Unavailable"/>: <c>503</c> for everything). Every request is recorded.
/// </summary>
public sealed class FaultProxy : IAsyncDisposable
{
    /// <summary>How many bytes <see cref="FaultMode.ShortLength"/> leaves out and <see cref="FaultMode.ExtraBytes"/> adds.</summary>
    public const int LengthError = 4096;

    private const int ChunkSize = 64 * 1024;

    // Hop-by-hop headers, and those Kestrel computes itself from what the proxy writes.
    private static readonly HashSet<string> NotForwarded = new(StringComparer.OrdinalIgnoreCase)
    {
        "Connection", "Keep-Alive", "Transfer-Encoding", "Upgrade", "Proxy-Connection", "TE", "Trailer", "Host", "Content-Length",
    };

    private readonly WebApplication _app;
    private readonly HttpClient _upstream;
    private readonly Uri _target;
    private readonly List<ProxiedRequest> _requests = [];
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, string> _deniedManifests = new(StringComparer.Ordinal);
    private volatile bool _unavailable;
    private int _disposed;
    private volatile Hold? _hold;
    private volatile StatusFault? _statusFault;
    private int _stopped;
    private int _mode;
    private long _bytesPerSecond;

    private FaultProxy(WebApplication app, HttpClient upstream, Uri target)
    {
        _app = app;
        _upstream = upstream;
        _target = target;
    }

    public Uri BaseUri { get; private set; } = null!;

    public FaultMode Mode
    {
        get => (FaultMode)Volatile.Read(ref _mode);
        set => Volatile.Write(ref _mode, (int)value);
    }

    /// <summary>Blob bodies are forwarded at about this rate; 0 (the default) forwards them as fast as they come.</summary>
    public long BytesPerSecond
    {
        get => Interlocked.Read(ref _bytesPerSecond);
        set => Interlocked.Exchange(ref _bytesPerSecond, value);
    }

    /// <summary>While true, every request is answered <c>503 Service Unavailable</c> without reaching the registry.</summary>
    public bool Unavailable
    {
        get => _unavailable;
        set => _unavailable = value;
    }

    /// <summary>
    /// From now on, a manifest request (GET or HEAD, by tag or by digest) whose answer would be <paramref name="digest"/> is
    /// refused as Harbor refuses an image its project policy blocks: <c>412</c> with
    /// <c>{"errors":[{"code":"PROJECTPOLICYVIOLATION","message":...}]}</c> (no body on a HEAD).
    /// </summary>
    public void DenyManifest(Digest digest, string message) => _deniedManifests[digest.ToString()] = message;

    /// <summary>Lifts <see cref="DenyManifest"/>.</summary>
    public void AllowManifest(Digest digest) => _deniedManifests.TryRemove(digest.ToString(), out _);

    /// <summary>When set, referrers requests are answered by it, as by a registry with the referrers API (the registry behind has none).</summary>
    public ReferrersApi? Referrers { get; set; }

    /// <summary>When false, the proxy drops the Range header of requests, as an upstream that does not serve ranges answers a whole 200.</summary>
    public bool RangeSupported { get; set; } = true;

    /// <summary>
    /// Starts a proxy that forwards to <paramref name="target"/>, on a free port of 127.0.0.1 unless <paramref name="listen"/>
    /// names the address (an address of this process on a simulated cluster's bridge, standing in for a node).
    /// </summary>
    public static async Task<FaultProxy> StartAsync(Uri target, IPEndPoint? listen = null, CancellationToken cancellationToken = default)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(listen ?? new IPEndPoint(IPAddress.Loopback, 0)));
        var app = builder.Build();
        var upstream = new HttpClient(new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
            UseCookies = false,
        })
        { Timeout = Timeout.InfiniteTimeSpan };
        var proxy = new FaultProxy(app, upstream, target);
        app.Run(proxy.ForwardAsync);
        try
        {
            await app.StartAsync(cancellationToken);
        }
        catch
        {
            await proxy.DisposeAsync();
            throw;
        }
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        proxy.BaseUri = new Uri(address.EndsWith('/') ? address : address + "/");
        return proxy;
    }

    /// <summary>
    /// From now on, the body of every successful blob GET stops after <paramref name="offset"/> bytes until
    /// <see cref="Release"/>. The returned task completes when a body first reaches that point.
    /// </summary>
    public Task HoldAt(long offset)
    {
        var hold = new Hold(offset);
        _hold = hold;
        return hold.Reached.Task;
    }

    /// <summary>
    /// The next <paramref name="count"/> blob GETs are answered with <paramref name="status"/> (and <c>Retry-After</c> in
    /// whole seconds when given) without asking the registry; later ones pass through again.
    /// </summary>
    public void FailBlobGets(HttpStatusCode status, int count, TimeSpan? retryAfter = null) =>
        _statusFault = new StatusFault((int)status, count, retryAfter);

    /// <summary>Stops listening: connections to <see cref="BaseUri"/> are refused from now on, as to a registry that is down.</summary>
    public async Task GoDownAsync()
    {
        if (Interlocked.Exchange(ref _stopped, 1) == 0)
        {
            Release();
            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            try
            {
                await _app.StopAsync(deadline.Token);
            }
            catch (OperationCanceledException)
            {
            }
        }
    }

    /// <summary>Lets held bodies (and later ones) go on.</summary>
    public void Release() => _hold?.Released.TrySetResult();

    public IReadOnlyList<ProxiedRequest> Requests()
    {
        lock (_requests)
        {
            return [.. _requests];
        }
    }

    /// <summary>GETs of the blob the registry answered with 200, whatever the proxy then did to the body.</summary>
    public int CountBlobGets(Digest digest) => Requests().Count(r => r.IsBlobGet(digest) && r.Status == 200);

    /// <summary>Stops the proxy (its port then refuses connections, as a dead upstream does); a second call does nothing.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }
        Release();
        if (Interlocked.Exchange(ref _stopped, 1) == 0)
        {
            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            try
            {
                await _app.StopAsync(deadline.Token);
            }
            catch (OperationCanceledException)
            {
                // Connections still open at the deadline are cut, which is all that is left to do.
            }
        }
        await _app.DisposeAsync();
        _upstream.Dispose();
    }

    private async Task ForwardAsync(HttpContext context)
    {
        var request = context.Request;
        var pathAndQuery = request.Path.Value + request.QueryString.Value;
        if (_unavailable)
        {
            Record(request.Method, pathAndQuery, StatusCodes.Status503ServiceUnavailable);
            context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            return;
        }
        if (Referrers is { } referrers && await referrers.TryServeAsync(context))
        {
            Record(request.Method, pathAndQuery, context.Response.StatusCode, request.Headers.Accept.ToString());
            return;
        }
        if (HttpMethods.IsGet(request.Method) && ProxiedRequest.DigestOf(pathAndQuery) is not null && _statusFault?.TryTake() is { } fault)
        {
            Record(request.Method, pathAndQuery, fault.Status);
            context.Response.StatusCode = fault.Status;
            if (fault.RetryAfter is { } retryAfter)
            {
                context.Response.Headers.RetryAfter = ((int)retryAfter.TotalSeconds).ToString(System.Globalization.CultureInfo.InvariantCulture);
            }
            return;
        }
        using var message = new HttpRequestMessage(new HttpMethod(request.Method), new Uri(_target, pathAndQuery));
        foreach (var (name, values) in request.Headers)
        {
            if (!NotForwarded.Contains(name) && (RangeSupported || !string.Equals(name, "Range", StringComparison.OrdinalIgnoreCase)))
            {
                message.Headers.TryAddWithoutValidation(name, (IEnumerable<string?>)values);
            }
        }
        HttpResponseMessage response;
        try
        {
            response = await _upstream.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, context.RequestAborted);
        }
        catch (HttpRequestException)
        {
            Record(request.Method, pathAndQuery, 0);
            context.Response.StatusCode = StatusCodes.Status502BadGateway;
            return;
        }
        using (response)
        {
            if (PolicyDenial(pathAndQuery, response) is { } denial)
            {
                Record(request.Method, pathAndQuery, StatusCodes.Status412PreconditionFailed);
                await WriteDenialAsync(context, denial);
                return;
            }
            Record(request.Method, pathAndQuery, (int)response.StatusCode, request.Headers.Accept.ToString());
            context.Response.StatusCode = (int)response.StatusCode;
            foreach (var (name, values) in response.Headers.Concat(response.Content.Headers))
            {
                if (!NotForwarded.Contains(name))
                {
                    context.Response.Headers[name] = values.ToArray();
                }
            }
            var isBlobBody = HttpMethods.IsGet(request.Method) && response.StatusCode == HttpStatusCode.OK
                && ProxiedRequest.DigestOf(pathAndQuery) is not null;
            var length = response.Content.Headers.ContentLength;
            if (!isBlobBody || length is not { } size)
            {
                context.Response.ContentLength = length;
                if (!HttpMethods.IsHead(request.Method))
                {
                    await response.Content.CopyToAsync(context.Response.Body, context.RequestAborted);
                }
                return;
            }
            await ForwardBlobAsync(context, response.Content, size);
        }
    }

    private async Task ForwardBlobAsync(HttpContext context, HttpContent content, long size)
    {
        var mode = Mode;
        var hold = _hold;
        var rate = BytesPerSecond;
        var send = mode switch
        {
            FaultMode.Truncate => size / 2,
            FaultMode.ShortLength => size - LengthError,
            _ => size,
        };
        context.Response.ContentLength = mode switch
        {
            FaultMode.ShortLength => send,
            FaultMode.ExtraBytes => null,
            _ => size,
        };
        var cancellationToken = context.RequestAborted;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var buffer = new byte[ChunkSize];
        await using var body = await content.ReadAsStreamAsync(cancellationToken);
        long sent = 0;
        while (sent < send)
        {
            var want = (int)Math.Min(buffer.Length, send - sent);
            if (hold is not null && sent < hold.Offset)
            {
                want = (int)Math.Min(want, hold.Offset - sent);
            }
            var read = await body.ReadAsync(buffer.AsMemory(0, want), cancellationToken);
            if (read == 0)
            {
                break;
            }
            if (mode == FaultMode.Corrupt && size / 2 is var middle && middle >= sent && middle < sent + read)
            {
                buffer[middle - sent] ^= 0xFF;
            }
            await context.Response.Body.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
            await context.Response.Body.FlushAsync(cancellationToken);
            sent += read;
            if (hold is not null && sent == hold.Offset)
            {
                hold.Reached.TrySetResult();
                await hold.Released.Task.WaitAsync(cancellationToken);
            }
            if (rate > 0)
            {
                var due = TimeSpan.FromSeconds((double)sent / rate) - clock.Elapsed;
                if (due > TimeSpan.Zero)
                {
                    await Task.Delay(due, cancellationToken);
                }
            }
        }
        switch (mode)
        {
            case FaultMode.Truncate:
                // The response promised `size` bytes. Ending it here is what a dying upstream looks like: Kestrel sends
                // what was written and closes the connection. (An abort would reset it, and a reset discards whatever the
                // client has not read yet, headers included.)
                break;
            case FaultMode.ExtraBytes:
                var extra = new byte[LengthError];
                Array.Fill(extra, (byte)0x5A);
                await context.Response.Body.WriteAsync(extra, cancellationToken);
                break;
        }
    }

    // Harbor decides on the artifact a request resolves to, so a tag that names a blocked digest is refused too.
    private string? PolicyDenial(string pathAndQuery, HttpResponseMessage response)
    {
        if (_deniedManifests.IsEmpty || !pathAndQuery.Contains("/manifests/", StringComparison.Ordinal))
        {
            return null;
        }
        var reference = pathAndQuery[(pathAndQuery.LastIndexOf("/manifests/", StringComparison.Ordinal) + "/manifests/".Length)..].Split('?')[0];
        if (_deniedManifests.TryGetValue(reference, out var byPath))
        {
            return byPath;
        }
        return response.Headers.TryGetValues("Docker-Content-Digest", out var digests) && _deniedManifests.TryGetValue(digests.First(), out var byDigest)
            ? byDigest
            : null;
    }

    private static async Task WriteDenialAsync(HttpContext context, string message)
    {
        var body = System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(new { errors = new[] { new { code = "PROJECTPOLICYVIOLATION", message } } });
        context.Response.StatusCode = StatusCodes.Status412PreconditionFailed;
        context.Response.ContentType = "application/json; charset=utf-8";
        context.Response.ContentLength = body.Length;
        if (!HttpMethods.IsHead(context.Request.Method))
        {
            await context.Response.Body.WriteAsync(body, context.RequestAborted);
        }
    }

    private void Record(string method, string pathAndQuery, int status, string? accept = null)
    {
        lock (_requests)
        {
            _requests.Add(new ProxiedRequest(method, pathAndQuery, status, accept));
        }
    }

    private sealed class StatusFault(int status, int count, TimeSpan? retryAfter)
    {
        private int _left = count;

        public int Status { get; } = status;

        public TimeSpan? RetryAfter { get; } = retryAfter;

        public StatusFault? TryTake() => Interlocked.Decrement(ref _left) >= 0 ? this : null;
    }

    private sealed class Hold(long offset)
    {
        public long Offset { get; } = offset;

        public TaskCompletionSource Reached { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Released { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
