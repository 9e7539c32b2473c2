using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Microsoft.Extensions.Logging;
using NodeCache.Oci;

namespace NodeCache.Upstream;

/// <summary>Speaks the distribution API's pull side to a route: auth, retries, redirects, endpoint failover.</summary>
public sealed class RegistryClient : IDisposable
{
    /// <summary>Enough of an error body to pass the registry's JSON errors through; more is never useful.</summary>
    internal const int MaxErrorBody = 16 * 1024;

    private readonly HttpClient _http;
    private readonly CaBundle? _bundle;
    private readonly Authorizer _authorizer;
    private readonly RetryPolicy _retries;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly TimeSpan _responseTimeout;
    private readonly TimeSpan _connectTimeout;

    /// <exception cref="IOException">The CA bundle cannot be read.</exception>
    public RegistryClient(RegistryClientOptions options, CredentialStore credentials, ILogger logger, TimeProvider? time = null)
    {
        _time = time ?? TimeProvider.System;
        _responseTimeout = options.ResponseTimeout;
        _connectTimeout = options.ConnectTimeout;
        _logger = logger;
        _bundle = options.CaBundlePath is null ? null : CaBundle.Load(options.CaBundlePath);
        _http = UpstreamHttp.Create(options, _bundle);
        _authorizer = new Authorizer(credentials, new TokenCache(_time), new TokenClient(_http, options.ResponseTimeout, _time, logger), logger);
        _retries = new RetryPolicy(options, _time);
    }

    /// <summary>How long an answer's headers, and a body read whole (an error, a token, a listing), may take.</summary>
    internal TimeSpan ResponseTimeout => _responseTimeout;

    /// <summary>
    /// Sends the request to the route's endpoints in order, moving on only when one gives no answer or 5xx after its retries.
    /// A route without endpoints answers <see cref="UpstreamOutcome.NoUpstream"/> at once.
    /// Throws only for cancellation and for a request that is not GET/HEAD of a valid reference.
    /// </summary>
    public async Task<UpstreamResponse> SendAsync(UpstreamRequest request, CancellationToken cancellationToken)
    {
        Validate(request);
        if (!request.Route.HasUpstream)
        {
            return UpstreamResponse.NoUpstream(request.Route.Registry);
        }
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var endpoints = request.Route.Endpoints;
        for (var i = 0; ; i++)
        {
            var response = await SendToEndpointAsync(request, endpoints[i], cancellationToken);
            // 4xx and 429 are answers about the content, not about the endpoint: another endpoint would say the same.
            var failOver = response.Outcome is UpstreamOutcome.Unreachable or UpstreamOutcome.ServerError;
            if (!failOver || i == endpoints.Count - 1)
            {
                if (response.Outcome != UpstreamOutcome.Success)
                {
                    // A miss is routine for a mirror (containerd probes tags and referrers); other failures are worth a line.
                    _logger.Log(response.Outcome == UpstreamOutcome.NotFound ? LogLevel.Debug : LogLevel.Information,
                        "Upstream {Method} {Registry}/{Repository} {Object} {Reference}: {Outcome} ({Reason})",
                        request.Method, request.Route.Registry, request.Repository, request.Object, request.Reference, response.Outcome, response.FailureReason);
                }
                response.Elapsed = System.Diagnostics.Stopwatch.GetElapsedTime(started);
                return response;
            }
            _logger.LogWarning("Upstream {Endpoint} for {Registry} failed: {Outcome} ({Reason}); trying {Next}",
                endpoints[i], request.Route.Registry, response.Outcome, response.FailureReason, endpoints[i + 1]);
            response.Dispose();
        }
    }

    public void Dispose()
    {
        _http.Dispose();
        _bundle?.Dispose();
    }

    private static void Validate(UpstreamRequest request)
    {
        if (request.Method != HttpMethod.Get && request.Method != HttpMethod.Head)
        {
            // Retries and failover assume idempotent requests; the pull side needs nothing else.
            throw new ArgumentException($"only GET and HEAD are sent upstream, not {request.Method}", nameof(request));
        }
        // The reference becomes a path segment: only the tag and digest grammars may get there.
        var valid = request.Object switch
        {
            RegistryObject.Manifest => IsDigestReference(request.Reference) || Tag.IsValid(request.Reference),
            RegistryObject.TagList => request.Reference.Length == 0,
            _ => IsDigestReference(request.Reference),
        };
        if (!valid)
        {
            throw new ArgumentException($"'{request.Reference}' is not a {(request.Object == RegistryObject.Manifest ? "tag or digest" : "digest")}", nameof(request));
        }
        if (request.Query is { } query && (query.StartsWith('?') || query.Any(c => c is '#' or ' ' || char.IsControl(c))))
        {
            throw new ArgumentException("the query must be encoded and come without '?'", nameof(request));
        }
        if (request.RangeStart < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(request), "RangeStart must not be negative");
        }
    }

    // digest := algorithm ":" encoded ; algorithm := [a-z0-9]+([+._-][a-z0-9]+)* ; encoded := [a-zA-Z0-9=_-]+
    private static bool IsDigestReference(string reference)
    {
        var colon = reference.IndexOf(':');
        return colon > 0 && colon < reference.Length - 1 && reference.Length <= 256
            && reference[..colon].All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '+' or '.' or '_' or '-')
            && reference[(colon + 1)..].All(c => char.IsAsciiLetterOrDigit(c) || c is '=' or '_' or '-');
    }

    private async Task<UpstreamResponse> SendToEndpointAsync(UpstreamRequest request, UpstreamEndpoint endpoint, CancellationToken cancellationToken)
    {
        var repository = request.Repository.WithPrefix(endpoint.PathPrefix).Value;
        var resource = request.Object switch
        {
            RegistryObject.Manifest => $"manifests/{request.Reference}",
            RegistryObject.Blob => $"blobs/{request.Reference}",
            RegistryObject.TagList => "tags/list",
            _ => $"referrers/{request.Reference}",
        };
        var query = string.IsNullOrEmpty(request.Query) ? "" : "?" + request.Query;
        var uri = new Uri(endpoint.BaseUri, $"/v2/{repository}/{resource}{query}");
        var scope = Authorizer.PullScope(repository);
        for (var retries = 0; ; retries++)
        {
            var response = await SendAuthorizedAsync(request, endpoint, uri, scope, cancellationToken);
            if (!_retries.ShouldRetry(response, retries, out var delay))
            {
                return response;
            }
            _logger.LogDebug("Retrying {Url} in {Delay} ms after {Outcome} ({Reason})",
                SafeText.Url(uri), (int)delay.TotalMilliseconds, response.Outcome, response.FailureReason);
            response.Dispose();
            await Task.Delay(delay, _time, cancellationToken);
        }
    }

    /// <summary>One try: send with what auth is known; on a 401 from the registry, answer its challenge and send once more.</summary>
    private async Task<UpstreamResponse> SendAuthorizedAsync(
        UpstreamRequest request, UpstreamEndpoint endpoint, Uri uri, string scope, CancellationToken cancellationToken)
    {
        var authorization = _authorizer.Known(endpoint, scope, request.Identity);
        var answeredChallenge = false;
        while (true)
        {
            HttpResponseMessage response;
            Uri answeredBy;
            try
            {
                (response, answeredBy) = await ExchangeAsync(request, uri, authorization, cancellationToken);
            }
            catch (Exception e) when (UpstreamFailure.IsNoAnswer(e, cancellationToken))
            {
                _logger.LogDebug("{Method} {Url}: no answer: {Reason}", request.Method, SafeText.Url(uri), SafeText.Message(e));
                if (await PlainHttpProbe.AnswersPlainHttpAsync(e, uri, _connectTimeout, cancellationToken))
                {
                    var plain = new UriBuilder(endpoint.BaseUri) { Scheme = Uri.UriSchemeHttp, Port = uri.Port }.Uri;
                    var advice = $"{SafeText.Url(endpoint.BaseUri)} does not speak TLS, it answers plain HTTP: "
                        + $"use --upstream {request.Route.Registry}={SafeText.Url(plain).TrimEnd('/')}{(endpoint.PathPrefix is null ? "" : "/" + endpoint.PathPrefix)}";
                    return UpstreamResponse.Unreachable(endpoint, advice);
                }
                return UpstreamResponse.Unreachable(endpoint, $"{SafeText.Url(uri)}: {SafeText.Message(e)}");
            }

            // A 401 from object storage after a redirect is not the registry's challenge to answer.
            if (response.StatusCode == HttpStatusCode.Unauthorized && !answeredChallenge && RedirectPolicy.SameOrigin(answeredBy, uri))
            {
                answeredChallenge = true;
                var challenges = response.Headers.NonValidated.TryGetValues("WWW-Authenticate", out var values) ? values : default;
                AuthenticationHeaderValue? next;
                UpstreamFailure failure;
                try
                {
                    (next, failure) = await _authorizer.AnswerAsync(endpoint, challenges, scope, authorization, request.Identity, cancellationToken);
                }
                catch
                {
                    response.Dispose();
                    throw;
                }
                if (next is not null)
                {
                    response.Dispose();
                    authorization = next;
                    continue;
                }
                if (failure.Outcome != UpstreamOutcome.Denied)
                {
                    // The token server gave no answer or failed: that, not the registry's 401, is what may pass with a retry.
                    response.Dispose();
                    return new UpstreamResponse(failure.Outcome, failure.Status, null, endpoint, failure.Reason);
                }
                return await FinishAsync(request, endpoint, response, answeredBy, failure.Reason, cancellationToken);
            }
            return await FinishAsync(request, endpoint, response, answeredBy, null, cancellationToken);
        }
    }

    /// <summary>Sends the request and follows redirects; Authorization goes only to the registry's own origin.</summary>
    private async Task<(HttpResponseMessage Response, Uri AnsweredBy)> ExchangeAsync(
        UpstreamRequest request, Uri uri, AuthenticationHeaderValue? authorization, CancellationToken cancellationToken)
    {
        var target = uri;
        for (var hop = 0; ; hop++)
        {
            using var message = new HttpRequestMessage(request.Method, target);
            if (request.Object == RegistryObject.Manifest)
            {
                message.Headers.TryAddWithoutValidation("Accept", request.Accept ?? MediaTypes.ManifestAccept);
            }
            else if (request.Accept is not null)
            {
                message.Headers.TryAddWithoutValidation("Accept", request.Accept);
            }
            if (request.RangeStart is { } start)
            {
                message.Headers.Range = new RangeHeaderValue(start, null);
            }
            if (authorization is not null && RedirectPolicy.SameOrigin(target, uri))
            {
                message.Headers.Authorization = authorization;
            }
            var response = await _http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            if (hop == RedirectPolicy.MaxHops || !RedirectPolicy.TryGetTarget(response, target, out var next))
            {
                return (response, target);
            }
            _logger.LogDebug("{Method} {Url}: {Status} to {Location}", request.Method, SafeText.Url(target), (int)response.StatusCode, SafeText.Url(next));
            response.Dispose();
            target = next;
        }
    }

    /// <summary>Turns the final response into an outcome; a failure's body is read (capped) and its connection released.</summary>
    private async Task<UpstreamResponse> FinishAsync(
        UpstreamRequest request, UpstreamEndpoint endpoint, HttpResponseMessage response, Uri answeredBy, string? reason, CancellationToken cancellationToken)
    {
        var status = response.StatusCode;
        var outcome = Classify(status);
        _logger.LogDebug("{Method} {Url}: {Status} {Outcome}", request.Method, SafeText.Url(answeredBy), (int)status, outcome);
        if (outcome == UpstreamOutcome.Success)
        {
            return new UpstreamResponse(outcome, status, response, endpoint, null);
        }
        using (response)
        {
            reason ??= (int)status is >= 300 and < 400
                ? $"{SafeText.Url(answeredBy)} answered {(int)status} (redirect loop, or one without a usable Location)"
                : $"{SafeText.Url(answeredBy)} answered {(int)status}";
            string? body = null;
            try
            {
                var (bytes, _) = await BoundedBody.ReadAsync(response.Content, MaxErrorBody, _responseTimeout, cancellationToken);
                body = bytes.Length > 0 ? Encoding.UTF8.GetString(bytes) : null;
            }
            catch (Exception e) when (UpstreamFailure.IsNoAnswer(e, cancellationToken))
            {
                // The status is the answer; a body cut short only loses detail.
            }
            return new UpstreamResponse(outcome, status, null, endpoint, reason, body,
                response.Content.Headers.ContentType?.ToString(), _retries.RetryAfter(response));
        }
    }

    private static UpstreamOutcome Classify(HttpStatusCode status) => status switch
    {
        >= HttpStatusCode.OK and < HttpStatusCode.Ambiguous => UpstreamOutcome.Success,
        HttpStatusCode.NotFound => UpstreamOutcome.NotFound,
        HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden => UpstreamOutcome.Denied,
        HttpStatusCode.TooManyRequests => UpstreamOutcome.TooManyRequests,
        >= HttpStatusCode.BadRequest and < HttpStatusCode.InternalServerError => UpstreamOutcome.ClientError,
        // 5xx, and 1xx/3xx that should never be final: the upstream misbehaves, which is its failure, not the content's.
        _ => UpstreamOutcome.ServerError,
    };
}
