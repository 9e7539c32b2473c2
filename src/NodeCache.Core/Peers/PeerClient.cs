using System.Net.Http.Headers;
using System.Net.Security;
using System.Security.Authentication;
using Microsoft.Extensions.Logging;
using NodeCache.Upstream;

namespace NodeCache.Peers;

/// <summary>
/// Sends signed requests to other agents' peer APIs. An agent whose network stack does not answer within the connect
/// timeout (it accepts no connection, or leaves the request unacknowledged on a kept-alive one) is given up at that moment,
/// so an unreachable owner costs a fraction of a second; one that answers has until the response timeout to finish a TLS
/// handshake and send its headers. Redirects are the caller's to follow, since only members may be followed to. With TLS,
/// a peer's certificate must chain to the cluster's peer CA and to nothing else, and its name is not checked: the agents
/// of a DaemonSet share one certificate and are addressed by their nodes' IPs, so holding a key the peer CA certified is
/// what identifies a peer. A peer whose certificate this agent rejects is told apart from one it cannot reach, and warned
/// of: the cluster's certificates need fixing, and no request was sent to it.
/// </summary>
public sealed class PeerClient : IDisposable
{
    private readonly HttpClient _http;
    private readonly CaBundle? _trust;
    private readonly PeerProof _proof;
    private readonly string _self;
    private readonly TimeSpan _connectTimeout;
    private readonly TimeSpan _responseTimeout;
    private readonly ILogger _logger;

    /// <param name="self">This agent's own peer URL, which every request names as its requester.</param>
    /// <exception cref="FormatException">The TLS CA file cannot be read.</exception>
    public PeerClient(PeerOptions options, PeerProof proof, string self, ILogger logger)
    {
        _logger = logger;
        _proof = proof;
        _self = PeerMember.CanonicalUrl(self);
        _connectTimeout = options.ConnectTimeout;
        _responseTimeout = options.ResponseTimeout;
        _trust = options.TlsCaFile is { } ca ? LoadCa(ca) : null;
        var trust = _trust;
        // A request is given up at the connect timeout by what the kernel says (PeerReach), not by the handler's timer, which a
        // starved process runs late. The handler's own timeout bounds what the kernel cannot judge: a TLS handshake a busy
        // agent is slow to finish gets the time an answer gets.
        _http = UpstreamHttp.Create(options.ResponseTimeout, Timeout.InfiniteTimeSpan, "nodecache-peer",
            trust is null ? null : (certificate, chain, errors) => certificate is not null && !errors.HasFlag(SslPolicyErrors.RemoteCertificateNotAvailable) && trust.ChainsToBundle(certificate, chain),
            useProxy: false, connect: PeerSockets.Connect(options.StallTimeout));
    }

    /// <summary>
    /// Sends a signed request to <paramref name="member"/>'s <paramref name="pathAndQuery"/> and returns once its headers
    /// arrive; the body is the caller's to read and the response its to dispose.
    /// </summary>
    /// <exception cref="PeerUnansweredException">
    /// No connection, no acknowledgement of the request, a certificate this agent does not accept, or no headers within the
    /// response timeout.
    /// </exception>
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
        var reach = new PeerReach(request, _connectTimeout);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(_responseTimeout);
        try
        {
            reach.ClaimWrites();
            var answer = _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, deadline.Token);
            if (await reach.SilenceAsync(answer, deadline.Token).ConfigureAwait(false) is { } silence)
            {
                // Not the handler's own report of it, which comes later: the next origin is asked now.
                await deadline.CancelAsync().ConfigureAwait(false);
                Abandon(answer);
                throw new PeerUnansweredException(memberId, PeerRequestResult.Unreachable, $"{silence} (given up {reach.Elapsed.TotalMilliseconds:0} ms after asking)");
            }
            return await answer.ConfigureAwait(false);
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            // The handler reports its connect timeout as a cancellation too, before the response deadline could have passed.
            throw deadline.IsCancellationRequested
                ? new PeerUnansweredException(memberId, PeerRequestResult.Stalled, $"no answer within {_responseTimeout.TotalSeconds:0.##} s")
                : new PeerUnansweredException(memberId, PeerRequestResult.Unreachable, ex.InnerException?.Message ?? ex.Message);
        }
        catch (HttpRequestException ex) when (Rejected(ex) is { } rejected)
        {
            var trusted = _trust is null ? "is not one the system's roots certify for its address (no --peer-tls-ca)" : "does not chain to --peer-tls-ca";
            _logger.LogWarning("Peer {Peer} was sent no request: its certificate {Trusted} ({Detail})", memberId, trusted, rejected.Message);
            throw new PeerUnansweredException(memberId, PeerRequestResult.Untrusted, $"its certificate {trusted} ({rejected.Message})");
        }
        catch (HttpRequestException ex)
        {
            throw new PeerUnansweredException(memberId, PeerRequestResult.Unreachable, ex.InnerException?.Message ?? ex.Message);
        }
    }

    public void Dispose()
    {
        _http.Dispose();
        _trust?.Dispose();
    }

    // The handler ends a request given up as a cancellation; an answer that came at that very moment is closed.
    private static void Abandon(Task<HttpResponseMessage> answer) =>
        answer.ContinueWith(static sent =>
        {
            if (sent.IsCompletedSuccessfully)
            {
                sent.Result.Dispose();
            }
            return sent.Exception;
        }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);

    // The TLS handshake failed on this agent's side: the peer's certificate is not one it accepts.
    private static AuthenticationException? Rejected(HttpRequestException ex)
    {
        for (var inner = ex.InnerException; inner is not null; inner = inner.InnerException)
        {
            if (inner is AuthenticationException rejected)
            {
                return rejected;
            }
        }
        return null;
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

/// <summary>An agent gave no answer: it could not be reached, its certificate is not one this agent accepts, or it did not answer in time.</summary>
public sealed class PeerUnansweredException(string memberId, PeerRequestResult result, string reason) : Exception($"{memberId}: {reason}")
{
    public string MemberId { get; } = memberId;

    /// <summary><see cref="PeerRequestResult.Unreachable"/>, <see cref="PeerRequestResult.Untrusted"/> or <see cref="PeerRequestResult.Stalled"/>.</summary>
    public PeerRequestResult Result { get; } = result;
}
