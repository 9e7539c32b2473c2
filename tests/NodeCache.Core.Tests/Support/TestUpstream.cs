using Microsoft.AspNetCore.Http;
using NodeCache.Oci;
using NodeCache.Upstream;

namespace NodeCache.Core.Tests.Support;

/// <summary>The requests, routes and client settings the client tests share.</summary>
internal static class TestUpstream
{
    public const string Repository = "proj/app";
    public const string BlobDigest = "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";

    /// <summary>The defaults, except that backoff takes a millisecond: the tests count requests, not time.</summary>
    public static RegistryClientOptions Options { get; } = new() { RetryBaseDelay = TimeSpan.FromMilliseconds(1) };

    public static UpstreamRoute Route(params LoopbackServer[] servers) =>
        new("harbor.example", [.. servers.Select(s => new UpstreamEndpoint(s.BaseUri, null))]);

    public static UpstreamRoute Route(params UpstreamEndpoint[] endpoints) => new("harbor.example", endpoints);

    public static UpstreamRequest Manifest(UpstreamRoute route, string repository = Repository, string reference = "latest", HttpMethod? method = null, string? accept = null) =>
        new(route, method ?? HttpMethod.Get, RepositoryName.Parse(repository), RegistryObject.Manifest, reference, accept);

    public static UpstreamRequest Blob(UpstreamRoute route, long? rangeStart = null) =>
        new(route, HttpMethod.Get, RepositoryName.Parse(Repository), RegistryObject.Blob, BlobDigest, RangeStart: rangeStart);

    public static CredentialStore Credentials(string host, string username, string password) =>
        CredentialStore.Parse([$"{host}=env:CREDENTIAL"], _ => $"{username}:{password}");

    public static RegistryClient Client(RecordingLogger? logger = null, CredentialStore? credentials = null, RegistryClientOptions? options = null, TimeProvider? time = null) =>
        new(options ?? Options, credentials ?? CredentialStore.Empty, logger ?? new RecordingLogger(), time);

    /// <summary>A handler answering each request with the next status of the list, then 200 with "ok".</summary>
    public static Func<HttpContext, Task> Statuses(params int[] statuses)
    {
        var next = -1;
        return async context =>
        {
            var i = Interlocked.Increment(ref next);
            context.Response.StatusCode = i < statuses.Length ? statuses[i] : 200;
            await context.Response.WriteAsync(i < statuses.Length ? $"status {statuses[i]}" : "ok");
        };
    }

    public static async Task<string> BodyOf(UpstreamResponse response) => await response.Message!.Content.ReadAsStringAsync();
}
