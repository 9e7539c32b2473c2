using System.Collections.Concurrent;
using NodeCache.Fill;

namespace NodeCache.Peers;

/// <summary>What this agent saw of one member: traffic both ways, failures, and until when it avoids it.</summary>
/// <param name="RecentErrors">The last few failures, newest last, one line each.</param>
public sealed record PeerRecord(
    string Id, long BytesReceived, long BytesSent, long Requests, long Failures, DateTimeOffset? AvoidedUntil, IReadOnlyList<PeerError> RecentErrors);

/// <summary>One failure of a member as this agent saw it.</summary>
public sealed record PeerError(DateTimeOffset At, FallbackReason Reason, string Detail);

/// <summary>
/// Which members this agent avoids for now, and why. A member that could not be reached, stalled, crawled or failed is
/// avoided for a short while, so that the next blobs do not each pay for the same discovery; one that sent bytes that are
/// not the blob's is avoided for much longer. An avoided member is left out of ownership here, so its blobs go to the next
/// member in rendezvous order until it is asked again.
/// </summary>
public sealed class PeerHealth(TimeProvider time)
{
    private const int RecentErrorCount = 5;

    private readonly ConcurrentDictionary<string, State> _states = new(StringComparer.Ordinal);

    /// <summary>How long a member is avoided after a failure of each kind.</summary>
    public static TimeSpan AvoidFor(FallbackReason reason) => reason switch
    {
        FallbackReason.WrongBytes => TimeSpan.FromMinutes(10),
        // Connecting again costs at most the connect timeout: ask again soon, a restarted agent is back within seconds.
        FallbackReason.Unreachable => TimeSpan.FromSeconds(15),
        _ => TimeSpan.FromMinutes(1),
    };

    public bool IsAvoided(string id) => _states.TryGetValue(id, out var state) && state.AvoidedUntil is { } until && until > time.GetUtcNow();

    /// <summary>Counts a request this agent sent to the member.</summary>
    public void Asked(string id) => Interlocked.Increment(ref For(id).Requests);

    public void Received(string id, long bytes) => Interlocked.Add(ref For(id).BytesReceived, bytes);

    public void Sent(string id, long bytes) => Interlocked.Add(ref For(id).BytesSent, bytes);

    /// <summary>A failure that says nothing about the member (a blob it does not hold) is not one: pass only the others.</summary>
    public void Failed(string id, FallbackReason reason, string detail)
    {
        var state = For(id);
        var now = time.GetUtcNow();
        lock (state)
        {
            state.Failures++;
            var until = now + AvoidFor(reason);
            state.AvoidedUntil = state.AvoidedUntil is { } already && already > until ? already : until;
            state.Errors.Enqueue(new PeerError(now, reason, detail));
            while (state.Errors.Count > RecentErrorCount)
            {
                state.Errors.Dequeue();
            }
        }
    }

    /// <summary>The member answered as it should: asked again at once if it was avoided for a failure other than wrong bytes.</summary>
    public void Succeeded(string id)
    {
        if (!_states.TryGetValue(id, out var state))
        {
            return;
        }
        lock (state)
        {
            if (state.Errors.LastOrDefault()?.Reason != FallbackReason.WrongBytes)
            {
                state.AvoidedUntil = null;
            }
        }
    }

    public PeerRecord Record(string id)
    {
        var state = For(id);
        lock (state)
        {
            var until = state.AvoidedUntil is { } at && at > time.GetUtcNow() ? at : (DateTimeOffset?)null;
            return new PeerRecord(id, Interlocked.Read(ref state.BytesReceived), Interlocked.Read(ref state.BytesSent), Interlocked.Read(ref state.Requests),
                state.Failures, until, [.. state.Errors]);
        }
    }

    private State For(string id) => _states.GetOrAdd(id, _ => new State());

    private sealed class State
    {
        public long BytesReceived;
        public long BytesSent;
        public long Requests;
        public long Failures;
        public DateTimeOffset? AvoidedUntil;

        public Queue<PeerError> Errors { get; } = new();
    }
}
