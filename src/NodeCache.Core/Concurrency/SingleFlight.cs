using System.Collections.Concurrent;

namespace NodeCache.Concurrency;

/// <summary>Runs one operation per key at a time; callers that arrive while it runs share its result.</summary>
internal sealed class SingleFlight<TKey, TResult>
    where TKey : notnull
{
    private readonly ConcurrentDictionary<TKey, Lazy<Task<TResult>>> _running = new();

    /// <param name="cancellationToken">Ends this caller's wait only; the shared operation goes on for the others.</param>
    public Task<TResult> RunAsync(TKey key, Func<Task<TResult>> operation, CancellationToken cancellationToken)
    {
        var flight = _running.GetOrAdd(key, k => new Lazy<Task<TResult>>(() => RunAndForgetAsync(k, operation)));
        return flight.Value.WaitAsync(cancellationToken);
    }

    private async Task<TResult> RunAndForgetAsync(TKey key, Func<Task<TResult>> operation)
    {
        try
        {
            return await operation().ConfigureAwait(false);
        }
        finally
        {
            _running.TryRemove(key, out _);
        }
    }
}
