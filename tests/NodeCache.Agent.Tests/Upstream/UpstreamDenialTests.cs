using System.Net;
using NodeCache.Agent.Tests.Support;
using NodeCache.Oci;
using NodeCache.Testing;

namespace NodeCache.Agent.Tests.Upstream;

/// <summary>The real agent in front of the real registry behind a proxy that refuses manifests as Harbor's project policies do.</summary>
public sealed class UpstreamDenialTests
{
    private const string Harbor = "harbor.test";
    private const string PolicyMessage = "current image with 2 vulnerabilities cannot be pulled due to configured policy in 'Prevent images with vulnerability severity of \"Critical\" or higher from running.'";

    [Fact]
    public async Task A_denied_cached_digest_is_passed_through_with_the_upstream_status_body_and_content_type_and_served_again_once_allowed()
    {
        await using var upstream = await PolicyUpstream.StartAsync(seed: 501, images: 1);
        await using var agent = await AgentProcess.StartAsync([.. AgentProcess.Upstream(Harbor, upstream.Proxy.BaseUri), "--manifest-revalidate", "0"]);
        using var http = new HttpClient();
        var image = upstream.Images[0];
        var uri = ManifestUri(agent, image, image.ManifestDigest.ToString());
        using (var allowed = await SendAsync(http, HttpMethod.Get, uri))
        {
            Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
        }

        upstream.Proxy.DenyManifest(image.ManifestDigest, PolicyMessage);

        using (var denied = await SendAsync(http, HttpMethod.Get, uri))
        {
            Assert.Equal(HttpStatusCode.PreconditionFailed, denied.StatusCode);
            Assert.Equal("application/json; charset=utf-8", denied.Content.Headers.ContentType?.ToString());
            var body = await denied.Content.ReadAsStringAsync();
            Assert.Contains("\"code\":\"PROJECTPOLICYVIOLATION\"", body, StringComparison.Ordinal);
            Assert.Contains("cannot be pulled due to configured policy", body, StringComparison.Ordinal);
        }
        using (var head = await SendAsync(http, HttpMethod.Head, uri))
        {
            Assert.Equal(HttpStatusCode.PreconditionFailed, head.StatusCode);
            Assert.Contains("PROJECTPOLICYVIOLATION: current image with 2 vulnerabilities", head.ReasonPhrase, StringComparison.Ordinal);
        }
        var metrics = await AgentMetrics.ReadAsync(http, agent.BaseUri, CancellationToken.None);
        Assert.True(metrics.Value("nodecache_upstream_denials_total", AgentMetrics.Labels(("registry", Harbor), ("reason", "policy"))) >= 1, metrics.Text);
        Assert.True(metrics.Value("nodecache_revalidations_total", AgentMetrics.Labels(("kind", "digest"), ("result", "denied"))) >= 1, metrics.Text);

        upstream.Proxy.AllowManifest(image.ManifestDigest);

        using var again = await SendAsync(http, HttpMethod.Get, uri);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal(image.ManifestBytes, await again.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task A_tag_whose_manifest_is_denied_is_not_served_from_cache_even_within_its_ttl_once_revalidated()
    {
        await using var upstream = await PolicyUpstream.StartAsync(seed: 502, images: 1);
        await using var agent = await AgentProcess.StartAsync([.. AgentProcess.Upstream(Harbor, upstream.Proxy.BaseUri), "--tag-ttl", "0"]);
        using var http = new HttpClient();
        var image = upstream.Images[0];
        var uri = ManifestUri(agent, image, image.Tag!);
        using (var allowed = await SendAsync(http, HttpMethod.Head, uri))
        {
            Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
        }

        upstream.Proxy.DenyManifest(image.ManifestDigest, PolicyMessage);

        using var denied = await SendAsync(http, HttpMethod.Get, uri);
        Assert.Equal(HttpStatusCode.PreconditionFailed, denied.StatusCode);
        Assert.Contains("PROJECTPOLICYVIOLATION", await denied.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_denial_survives_a_restart_with_the_upstream_down_while_an_allowed_image_is_served_stale()
    {
        await using var upstream = await PolicyUpstream.StartAsync(seed: 503, images: 2);
        var (blocked, allowed) = (upstream.Images[0], upstream.Images[1]);
        await using var agent = await AgentProcess.StartAsync([.. AgentProcess.Upstream(Harbor, upstream.Proxy.BaseUri), "--manifest-revalidate", "0", "--connect-timeout", "1s"]);
        using var http = new HttpClient();
        foreach (var image in upstream.Images)
        {
            using var first = await SendAsync(http, HttpMethod.Get, ManifestUri(agent, image, image.ManifestDigest.ToString()));
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        }
        upstream.Proxy.DenyManifest(blocked.ManifestDigest, PolicyMessage);
        using (var denied = await SendAsync(http, HttpMethod.Get, ManifestUri(agent, blocked, blocked.ManifestDigest.ToString())))
        {
            Assert.Equal(HttpStatusCode.PreconditionFailed, denied.StatusCode);
        }

        await upstream.Proxy.DisposeAsync();
        await agent.RestartAsync();

        using (var stillDenied = await SendAsync(http, HttpMethod.Get, ManifestUri(agent, blocked, blocked.ManifestDigest.ToString())))
        {
            Assert.Equal(HttpStatusCode.PreconditionFailed, stillDenied.StatusCode);
            Assert.Contains("cannot be pulled due to configured policy", await stillDenied.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
        using var stale = await SendAsync(http, HttpMethod.Get, ManifestUri(agent, allowed, allowed.ManifestDigest.ToString()));
        Assert.Equal(HttpStatusCode.OK, stale.StatusCode);
        Assert.Equal(allowed.ManifestBytes, await stale.Content.ReadAsByteArrayAsync());
        var metrics = await AgentMetrics.ReadAsync(http, agent.BaseUri, CancellationToken.None);
        Assert.True(metrics.Value("nodecache_revalidations_total", AgentMetrics.Labels(("kind", "digest"), ("result", "stale"))) >= 1, metrics.Text);
    }

    [Fact]
    public async Task A_cached_digest_deleted_upstream_is_answered_404_with_the_registry_body_and_stays_refused_after_a_restart_with_the_upstream_down()
    {
        await using var upstream = await PolicyUpstream.StartAsync(seed: 506, images: 1);
        await using var agent = await AgentProcess.StartAsync([.. AgentProcess.Upstream(Harbor, upstream.Proxy.BaseUri), "--manifest-revalidate", "0", "--connect-timeout", "1s"]);
        using var http = new HttpClient();
        var image = upstream.Images[0];
        var uri = ManifestUri(agent, image, image.ManifestDigest.ToString());
        using (var cached = await SendAsync(http, HttpMethod.Get, uri))
        {
            Assert.Equal(HttpStatusCode.OK, cached.StatusCode);
        }
        using (var registry = new DistributionClient(upstream.Registry.BaseUri))
        using (var deletion = await registry.SendAsync(() => new HttpRequestMessage(HttpMethod.Delete, new Uri(upstream.Registry.BaseUri, $"/v2/{image.Repository}/manifests/{image.ManifestDigest}")), null))
        {
            Assert.Equal(HttpStatusCode.Accepted, deletion.StatusCode);
        }

        using (var deleted = await SendAsync(http, HttpMethod.Get, uri))
        {
            Assert.Equal(HttpStatusCode.NotFound, deleted.StatusCode);
            Assert.Contains("MANIFEST_UNKNOWN", await deleted.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
        var metrics = await AgentMetrics.ReadAsync(http, agent.BaseUri, CancellationToken.None);
        Assert.True(metrics.Value("nodecache_upstream_denials_total", AgentMetrics.Labels(("registry", Harbor), ("reason", "not_found"))) >= 1, metrics.Text);
        await upstream.Proxy.DisposeAsync();
        await agent.RestartAsync();

        using var afterRestart = await SendAsync(http, HttpMethod.Get, uri);
        Assert.Equal(HttpStatusCode.NotFound, afterRestart.StatusCode);
    }

    [Fact]
    public async Task With_revalidation_off_a_cached_digest_is_served_without_asking_the_upstream()
    {
        await using var upstream = await PolicyUpstream.StartAsync(seed: 504, images: 1);
        await using var agent = await AgentProcess.StartAsync([.. AgentProcess.Upstream(Harbor, upstream.Proxy.BaseUri), "--manifest-revalidate", "off"]);
        using var http = new HttpClient();
        var image = upstream.Images[0];
        var uri = ManifestUri(agent, image, image.ManifestDigest.ToString());
        using (var first = await SendAsync(http, HttpMethod.Get, uri))
        {
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        }
        var before = upstream.Proxy.Requests().Count;

        upstream.Proxy.DenyManifest(image.ManifestDigest, PolicyMessage);

        using var second = await SendAsync(http, HttpMethod.Get, uri);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Equal(before, upstream.Proxy.Requests().Count);
    }

    [Fact]
    public async Task While_the_upstream_fails_a_cached_digest_is_served_stale_and_asked_about_once_per_window()
    {
        await using var upstream = await PolicyUpstream.StartAsync(seed: 505, images: 1);
        await using var agent = await AgentProcess.StartAsync([.. AgentProcess.Upstream(Harbor, upstream.Proxy.BaseUri), "--manifest-revalidate", "10m"]);
        using var http = new HttpClient();
        var image = upstream.Images[0];
        var uri = ManifestUri(agent, image, image.ManifestDigest.ToString());
        using (var first = await SendAsync(http, HttpMethod.Get, uri))
        {
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        }
        // A restart forgets allowances: the next request must ask the upstream, which now fails.
        await agent.RestartAsync();
        upstream.Proxy.Unavailable = true;

        using (var stale = await SendAsync(http, HttpMethod.Get, uri))
        {
            Assert.Equal(HttpStatusCode.OK, stale.StatusCode);
        }
        var asked = upstream.Proxy.Requests().Count(r => r.Status == 503);
        using (var again = await SendAsync(http, HttpMethod.Get, uri))
        {
            Assert.Equal(HttpStatusCode.OK, again.StatusCode);
            Assert.Equal(image.ManifestBytes, await again.Content.ReadAsByteArrayAsync());
        }

        Assert.True(asked > 0);
        Assert.Equal(asked, upstream.Proxy.Requests().Count(r => r.Status == 503));
    }

    internal static Uri ManifestUri(AgentProcess agent, BuiltImage image, string reference) =>
        new(agent.BaseUri, $"/v2/{image.Repository}/manifests/{reference}?ns={Harbor}");

    internal static async Task<HttpResponseMessage> SendAsync(HttpClient http, HttpMethod method, Uri uri)
    {
        using var request = new HttpRequestMessage(method, uri);
        request.Headers.TryAddWithoutValidation("Accept", MediaTypes.ManifestAccept);
        return await http.SendAsync(request);
    }
}
