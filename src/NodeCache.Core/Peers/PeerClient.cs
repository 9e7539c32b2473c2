using System.Net.Http.Headers;
using System.Net.Security;
using NodeCache.Upstream;

namespace NodeCache.Peers;

/// <summary>
/// Sends signed requests to other agents' peer APIs: a short connect timeout, so an unreachable agent costs a fraction of a
/// second, and a bound on the wait for the answer's headers. Redirects are the caller's to follow, since only members may be
/// followed to. With TLS, a peer's certificate must chain to the cluster's peer CA and to nothing else, and its name is not
/// checked: the agents of a DaemonSet share one certificate and are addressed by their nodes' IPs, so holding a key the peer
/// CA certified is what identifies a peer.
/// </summary>
public sealed class PeerClient : IDisposable
{
    private readonly HttpClient _http;
    private readonly CaBundle? _trust;
    private readonly PeerProof _proof;
    private readonly string _self;
    private readonly TimeSpan _responseTimeout;

    /// <param name="self">This agent's own peer URL, which every request names as its requester.</param>
    /// <exception cref="FormatException">The TLS CA file cannot be read.</exception>
    public PeerClient(PeerOptions options, PeerProof proof, string self)
    {
        _proof = proof;
        _self = PeerMember.CanonicalUrl(self);
        _responseTimeout = options.ResponseTimeout;
        _trust = options.TlsCaFile is { } ca ? LoadCa(ca) : null;
        var trust = _trust;
        _http = UpstreamHttp.Create(options.ConnectTimeout, Timeout.InfiniteTimeSpan, "nodecache-peer",
            trust is null ? null : (certificate, chain, errors) => certificate is not null && !errors.HasFlag(SslPolicyErrors.RemoteCertificateNotAvailable) && trust.ChainsToBundle(certificate, chain),
            useProxy: false);
    }

    /// <summary>
    /// Sends a signed request to <paramref name="member"/>'s <paramref name="pathAndQuery"/> and returns once its headers
    /// arrive; the body is the caller's to read and the response its to dispose.
    /// </summary>
    /// <exception cref="PeerUnreachableException">No connection, or no headers within the response timeout.</exception>
    public async Task<HttpResponseMessage> SendAsync(HttpMethod method, string memberId, string pathAndQuery, long? rangeStart, string? accept, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, new Uri(memberId + pathAndQuery));
        // Signed as it goes on the wire, which is what the receiver checks.
        var (peer, at, proof) = _proof.Sign(method.Method, request.RequestUri!.PathAndQuery, _self);
        request.Headers.TryAddWithoutValidation(PeerProof.PeerHeader, peer);
        request.Headers.TryAddWithoutValidation(PeerProof.TimeHeader, at);
        request.Headers.TryAddWithoutValidation(PeerProof.ProofHeader, proof);
        if (rangeStart is { } start and > 0)
        {
            request.Headers.Range = new RangeHeaderValue(start, null);
        }
        if (accept is not null)
        {
            request.Headers.TryAddWithoutValidation("Accept", accept);
        }
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(_responseTimeout);
        try
        {
            return await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            // The handler reports its connect timeout as a cancellation too, before the response deadline could have passed.
            throw deadline.IsCancellationRequested
                ? new PeerUnreachableException(memberId, stalled: true, $"no answer within {_responseTimeout.TotalSeconds:0.##} s")
                : new PeerUnreachableException(memberId, stalled: false, ex.InnerException?.Message ?? ex.Message);
        }
        catch (HttpRequestException ex)
        {
            throw new PeerUnreachableException(memberId, stalled: false, ex.InnerException?.Message ?? ex.Message);
        }
    }

    public void Dispose()
    {
        _http.Dispose();
        _trust?.Dispose();
    }

    private static CaBundle LoadCa(string path)
    {
        try
        {
            return CaBundle.Load(path);
        }
        catch (IOException ex)
        {
            throw new FormatException($"--peer-tls-ca: {ex.Message}");
        }
    }
}

/// <summary>An agent gave no answer: it could not be reached, or it did not answer in time.</summary>
public sealed class PeerUnreachableException(string memberId, bool stalled, string reason) : Exception($"{memberId}: {reason}")
{
    public string MemberId { get; } = memberId;

    /// <summary>Connected, but no answer in time; otherwise no connection at all.</summary>
    public bool Stalled { get; } = stalled;
}
