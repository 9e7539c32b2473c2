using System.Diagnostics.Metrics;
using NodeCache.Fill;
using NodeCache.Telemetry;

namespace NodeCache.Peers;

/// <summary>
/// Sharing between agents on the mirror's Meter: requests sent to peers and answered for them, by result; fall-backs from
/// a peer to the next origin, by reason; bytes both ways; uploads in flight. Labels stay bounded: never a peer or a digest.
/// </summary>
public sealed class PeerMetrics : IDisposable
{
    // The label values that are known before anything happens (see ExportKnownSeries).
    private static readonly string[] RequestResults = [.. Enum.GetValues<PeerRequestResult>().Select(Label)];
    private static readonly string[] AnswerResults = [.. Enum.GetValues<PeerAnswerResult>().Select(Label)];
    private static readonly string[] FallbackReasons = [.. Enum.GetValues<FallbackReason>().Select(Label)];

    private readonly Meter _meter;
    private readonly Counter<long> _requests;
    private readonly Counter<long> _answers;
    private readonly Counter<long> _fallbacks;
    private readonly Counter<long> _receivedBytes;
    private readonly Counter<long> _sentBytes;
    private readonly UpDownCounter<long> _uploads;

    public PeerMetrics(IMeterFactory? meterFactory = null)
    {
        _meter = meterFactory?.Create(MirrorMetrics.MeterName) ?? new Meter(MirrorMetrics.MeterName);
        _requests = _meter.CreateCounter<long>("nodecache_peer_requests", description: $"Requests this agent sent to other agents (blobs; manifests while the upstream is down), by result ({string.Join(", ", RequestResults)}).");
        _answers = _meter.CreateCounter<long>("nodecache_peer_answers", description: $"Peer API requests this agent answered, by result ({string.Join(", ", AnswerResults)}).");
        _fallbacks = _meter.CreateCounter<long>("nodecache_peer_fallbacks", description: $"Fills that left a peer for the next origin, by reason ({string.Join(", ", FallbackReasons)}).");
        _receivedBytes = _meter.CreateCounter<long>("nodecache_peer_received_bytes", "By", "Blob bytes fills received from other agents.");
        _sentBytes = _meter.CreateCounter<long>("nodecache_peer_sent_bytes", "By", "Blob bytes this agent sent to other agents.");
        _uploads = _meter.CreateUpDownCounter<long>("nodecache_peer_uploads_in_flight", description: "Blob responses to other agents in progress.");
    }

    /// <summary>Observes the members as membership knows them now, by state (ready, not_ready, avoided).</summary>
    public void ObserveMembers(Func<IEnumerable<Measurement<long>>> observe) =>
        _meter.CreateObservableGauge("nodecache_peer_members", observe, description: "The cluster's agents as this agent knows them, this one included, by state (ready, not_ready, avoided).");

    /// <summary>
    /// Exports at 0 the requests and answers by every result, the fall-backs by every reason, the bytes both ways and the
    /// uploads in flight, so that the first of each after a start shows in rate() and increase() (see
    /// <see cref="MirrorMetrics.ExportKnownSeries"/>). Call it once the exporter listens.
    /// </summary>
    public void ExportKnownSeries()
    {
        foreach (var result in RequestResults)
        {
            _requests.Add(0, new KeyValuePair<string, object?>("result", result));
        }
        foreach (var result in AnswerResults)
        {
            _answers.Add(0, new KeyValuePair<string, object?>("result", result));
        }
        foreach (var reason in FallbackReasons)
        {
            _fallbacks.Add(0, new KeyValuePair<string, object?>("reason", reason));
        }
        _receivedBytes.Add(0);
        _sentBytes.Add(0);
        _uploads.Add(0);
    }

    public void Request(PeerRequestResult result) => _requests.Add(1, new KeyValuePair<string, object?>("result", Label(result)));

    public void Answer(PeerAnswerResult result) => _answers.Add(1, new KeyValuePair<string, object?>("result", Label(result)));

    public void Fallback(FallbackReason reason) => _fallbacks.Add(1, new KeyValuePair<string, object?>("reason", Label(reason)));

    public void Received(long bytes) => _receivedBytes.Add(bytes);

    public void Sent(long bytes) => _sentBytes.Add(bytes);

    public void UploadStarted() => _uploads.Add(1);

    public void UploadEnded() => _uploads.Add(-1);

    public void Dispose() => _meter.Dispose();

    /// <summary>The <c>result</c> label of <c>nodecache_peer_requests_total</c>: dashboards and alerts query these values.</summary>
    public static string Label(PeerRequestResult result) => result switch
    {
        PeerRequestResult.Served => "served",
        PeerRequestResult.Redirected => "redirected",
        PeerRequestResult.NotFound => "not_found",
        PeerRequestResult.Denied => "denied",
        PeerRequestResult.Refused => "refused",
        PeerRequestResult.Untrusted => "untrusted",
        PeerRequestResult.Unreachable => "unreachable",
        PeerRequestResult.Stalled => "stalled",
        PeerRequestResult.Failed => "failed",
        _ => throw new ArgumentOutOfRangeException(nameof(result), result, "a request result without a label"),
    };

    /// <summary>The <c>result</c> label of <c>nodecache_peer_answers_total</c>.</summary>
    public static string Label(PeerAnswerResult result) => result switch
    {
        PeerAnswerResult.Served => "served",
        PeerAnswerResult.Redirected => "redirected",
        PeerAnswerResult.NotFound => "not_found",
        PeerAnswerResult.Denied => "denied",
        PeerAnswerResult.Unauthorized => "unauthorized",
        PeerAnswerResult.BadRequest => "bad_request",
        PeerAnswerResult.Failed => "failed",
        _ => throw new ArgumentOutOfRangeException(nameof(result), result, "an answer result without a label"),
    };

    /// <summary>The <c>reason</c> label of <c>nodecache_peer_fallbacks_total</c>.</summary>
    public static string Label(FallbackReason reason) => reason switch
    {
        FallbackReason.Unreachable => "unreachable",
        FallbackReason.NotFound => "not_found",
        FallbackReason.Refused => "refused",
        FallbackReason.Stalled => "stalled",
        FallbackReason.Slow => "slow",
        FallbackReason.WrongBytes => "wrong_bytes",
        FallbackReason.Failed => "failed",
        _ => throw new ArgumentOutOfRangeException(nameof(reason), reason, "a fallback reason without a label"),
    };
}
