using System.Net;

namespace NodeCache.Upstream;

/// <summary>Why a step towards an answer (a token request, say) failed, as a value the request's outcome is made from.</summary>
internal readonly record struct UpstreamFailure(UpstreamOutcome Outcome, HttpStatusCode? Status, string Reason)
{
    /// <summary>True for an exception that means the server gave no answer (connect, TLS, reset, timeout), as opposed to our own cancellation.</summary>
    public static bool IsNoAnswer(Exception exception, CancellationToken cancellationToken) =>
        exception is HttpRequestException or IOException
        || (exception is OperationCanceledException && !cancellationToken.IsCancellationRequested);
}
