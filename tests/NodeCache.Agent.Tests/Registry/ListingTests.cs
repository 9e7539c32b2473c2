using System.Net;
using System.Text.Json;
using NodeCache.Oci;
using NodeCache.Testing;

namespace NodeCache.Agent.Tests.Registry;

/// <summary>
/// Tag lists and referrers read through the real agent to the real registry: as skopeo lists tags, paged with <c>n</c>,
/// <c>last</c> and <c>Link</c>, under a Harbor project prefix, and served as last known while the upstream is down.
/// The registry (2.8) has no referrers API: referrers are answered by <see cref="ReferrersApi"/> in the proxy in front of it.
/// </summary>
public sealed class ListingTests : IAsyncLifetime
{
    private const string Harbor = "harbor.test";
    private const string Project = "proxy-project";
    private static readonly string[] Tags = ["1.0", "1.1", "2.0", "beta", "latest"];

    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(30) };
    private readonly OciImageBuilder _builder = new(seed: 1601);
    private readonly ReferrersApi _referrers = new() { PageSize = 2 };
    private RegistryProcess _registry = null!;
    private FaultProxy _proxy = null!;
    private BuiltImage _image = null!;

    public async Task InitializeAsync()
    {
        _registry = await RegistryProcess.StartAsync();
        _proxy = await FaultProxy.StartAsync(_registry.BaseUri);
        _proxy.Referrers = _referrers;
        _image = await _builder.BuildAsync("team/app", Tags[0], [16 * OciImageBuilder.KiB]);
        var pusher = OciPusher.For(_registry);
        await pusher.PushAsync(_image);
        // The same image again under the project, as a Harbor proxy-cache project holds it.
        await pusher.PushAsync(_image with { Repository = $"{Project}/{_image.Repository}" });
        foreach (var tag in Tags.Skip(1))
        {
            await pusher.PushManifestAsync(_image.Repository, tag, _image.Manifest);
            await pusher.PushManifestAsync($"{Project}/{_image.Repository}", tag, _image.Manifest);
        }
    }

    public async Task DisposeAsync()
    {
        await _proxy.DisposeAsync();
        await _registry.DisposeAsync();
        _builder.Dispose();
        _http.Dispose();
    }

    [Fact]
    public async Task Skopeo_inspect_through_the_agent_lists_the_repositorys_tags()
    {
        await using var agent = await StartAgentAsync(_registry.BaseUri, "--default-registry", Harbor);

        var inspect = await Skopeo.InspectAsync(Skopeo.Docker(agent.HostPort, $"{_image.Repository}:{_image.Tag}"));
        var listed = await Skopeo.RunAsync(["list-tags", "--tls-verify=false", Skopeo.Docker(agent.HostPort, _image.Repository)]);

        Assert.True(inspect.Succeeded, inspect.Stderr);
        using var image = JsonDocument.Parse(inspect.Stdout);
        Assert.Equal(_image.ManifestDigest.ToString(), image.RootElement.GetProperty("Digest").GetString());
        Assert.Equal(Tags, image.RootElement.GetProperty("RepoTags").EnumerateArray().Select(t => t.GetString()!).Order(StringComparer.Ordinal));
        Assert.True(listed.Succeeded, listed.Stderr);
        Assert.Equal(Tags, JsonDocument.Parse(listed.Stdout).RootElement.GetProperty("Tags").EnumerateArray().Select(t => t.GetString()!).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Tags_come_in_lexical_pages_of_n_after_last_with_a_link_to_the_next_page_that_keeps_ns()
    {
        await using var agent = await StartAgentAsync(_registry.BaseUri);
        var pages = new List<string[]>();
        var next = $"/v2/{_image.Repository}/tags/list?n=2&ns={Harbor}";

        while (next is not null)
        {
            using var response = await _http.GetAsync(new Uri(agent.BaseUri, next));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            Assert.Equal(_image.Repository, body.RootElement.GetProperty("name").GetString());
            pages.Add([.. body.RootElement.GetProperty("tags").EnumerateArray().Select(t => t.GetString()!)]);
            next = response.Headers.TryGetValues("Link", out var links) ? NextPage(Assert.Single(links)) : null;
            Assert.True(next is null || next.Contains($"ns={Harbor}", StringComparison.Ordinal), next);
            Assert.True(pages.Count <= Tags.Length, "the pages never end");
        }

        Assert.Equal([["1.0", "1.1"], ["2.0", "beta"], ["latest"]], pages);
    }

    [Fact]
    public async Task A_harbor_project_prefix_stays_out_of_the_name_and_the_link_and_the_accept_header_is_passed_on()
    {
        await using var agent = await StartAgentAsync(new Uri(_proxy.BaseUri, Project));
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(agent.BaseUri, $"/v2/{_image.Repository}/tags/list?n=3&last=1.0&ns={Harbor}"));
        request.Headers.TryAddWithoutValidation("Accept", "application/json");

        using var response = await _http.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(_image.Repository, body.RootElement.GetProperty("name").GetString());
        Assert.Equal(["1.1", "2.0", "beta"], body.RootElement.GetProperty("tags").EnumerateArray().Select(t => t.GetString()!));
        Assert.Equal($"</v2/{_image.Repository}/tags/list?n=3&last=beta&ns={Harbor}>; rel=\"next\"", Assert.Single(response.Headers.GetValues("Link")));
        var upstream = Assert.Single(_proxy.Requests(), r => r.PathAndQuery.Contains("/tags/list", StringComparison.Ordinal));
        Assert.Equal($"/v2/{Project}/{_image.Repository}/tags/list?n=3&last=1.0", upstream.PathAndQuery);
        Assert.Equal("application/json", upstream.Accept);
    }

    [Fact]
    public async Task A_repository_the_upstream_does_not_know_is_404_name_unknown_as_the_registry_answers()
    {
        await using var agent = await StartAgentAsync(_registry.BaseUri);

        using var direct = await _http.GetAsync(new Uri(_registry.BaseUri, "/v2/no/such/tags/list"));
        using var mirrored = await _http.GetAsync(new Uri(agent.BaseUri, $"/v2/no/such/tags/list?ns={Harbor}"));

        Assert.Equal(HttpStatusCode.NotFound, direct.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, mirrored.StatusCode);
        Assert.Equal(await direct.Content.ReadAsStringAsync(), await mirrored.Content.ReadAsStringAsync());
        Assert.Equal(OciErrorCode.NameUnknown, ErrorCode(await mirrored.Content.ReadAsStringAsync()));
    }

    [Fact]
    public async Task A_tag_list_asked_again_within_the_tag_ttl_is_answered_without_asking_the_upstream()
    {
        await using var agent = await StartAgentAsync(_proxy.BaseUri, "--tag-ttl", "10m");
        var listed = new Uri(agent.BaseUri, $"/v2/{_image.Repository}/tags/list?ns={Harbor}");

        using var first = await _http.GetAsync(listed);
        using var second = await _http.GetAsync(listed);

        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Equal(await first.Content.ReadAsStringAsync(), await second.Content.ReadAsStringAsync());
        Assert.Single(_proxy.Requests(), r => r.PathAndQuery.Contains("/tags/list", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_last_known_tag_list_is_served_while_the_upstream_fails_and_one_never_listed_is_503()
    {
        await using var agent = await StartAgentAsync(_proxy.BaseUri, "--tag-ttl", "0s");
        var listed = new Uri(agent.BaseUri, $"/v2/{_image.Repository}/tags/list?ns={Harbor}");
        using var before = await _http.GetAsync(listed);
        var known = await before.Content.ReadAsStringAsync();

        _proxy.Unavailable = true;
        using var during = await _http.GetAsync(listed);
        using var neverListed = await _http.GetAsync(new Uri(agent.BaseUri, $"/v2/{Project}/{_image.Repository}/tags/list?ns={Harbor}"));
        await _proxy.GoDownAsync();
        using var down = await _http.GetAsync(listed);

        Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        Assert.Equal(HttpStatusCode.OK, during.StatusCode);
        Assert.Equal(known, await during.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.ServiceUnavailable, neverListed.StatusCode);
        Assert.Equal(OciErrorCode.Unavailable, ErrorCode(await neverListed.Content.ReadAsStringAsync()));
        Assert.Equal(HttpStatusCode.OK, down.StatusCode);
        Assert.Equal(known, await down.Content.ReadAsStringAsync());
        var metrics = await AgentMetrics.ReadAsync(_http, agent.BaseUri, CancellationToken.None);
        Assert.Equal(2, metrics.Value("nodecache_requests_total", AgentMetrics.Labels(("kind", "tags"), ("result", "stale"))));
    }

    [Fact]
    public async Task Referrers_are_read_through_with_the_artifact_type_filter_its_header_and_pages_under_the_clients_name()
    {
        var signature = "application/vnd.dev.cosign.artifact.sig.v1+json";
        var sbom = "application/spdx+json";
        var referrers = new[]
        {
            new Referrer(Digest.Compute("sig-1"u8), 401, signature),
            new Referrer(Digest.Compute("sbom-1"u8), 402, sbom),
            new Referrer(Digest.Compute("sig-2"u8), 403, signature),
            new Referrer(Digest.Compute("sig-3"u8), 404, signature),
        };
        foreach (var referrer in referrers)
        {
            _referrers.Add(_image.ManifestDigest, referrer);
        }
        await using var agent = await StartAgentAsync(new Uri(_proxy.BaseUri, Project));
        var path = $"/v2/{_image.Repository}/referrers/{_image.ManifestDigest}";
        var pages = new List<string[]>();
        string? filters = null;
        var next = $"{path}?artifactType={Uri.EscapeDataString(signature)}&ns={Harbor}";

        while (next is not null)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(agent.BaseUri, next));
            request.Headers.TryAddWithoutValidation("Accept", MediaTypes.OciIndex);
            using var response = await _http.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(MediaTypes.OciIndex, response.Content.Headers.ContentType?.MediaType);
            filters = response.Headers.TryGetValues("OCI-Filters-Applied", out var applied) ? Assert.Single(applied) : null;
            using var index = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            pages.Add([.. index.RootElement.GetProperty("manifests").EnumerateArray().Select(m => m.GetProperty("digest").GetString()!)]);
            next = response.Headers.TryGetValues("Link", out var links) ? NextPage(Assert.Single(links)) : null;
            Assert.True(next is null || next.StartsWith(path + "?", StringComparison.Ordinal), next);
            Assert.True(pages.Count <= referrers.Length, "the pages never end");
        }
        using var unknown = await _http.GetAsync(new Uri(agent.BaseUri, $"/v2/{_image.Repository}/referrers/{Digest.Compute("nobody"u8)}?ns={Harbor}"));

        Assert.Equal("artifactType", filters);
        Assert.Equal([[referrers[0].Digest.ToString(), referrers[2].Digest.ToString()], [referrers[3].Digest.ToString()]], pages);
        Assert.All(
            _proxy.Requests().Where(r => r.PathAndQuery.Contains("/referrers/", StringComparison.Ordinal) && r.PathAndQuery.Contains("artifactType", StringComparison.Ordinal)),
            r => Assert.Equal(MediaTypes.OciIndex, r.Accept));
        Assert.Equal(HttpStatusCode.OK, unknown.StatusCode);
        using var empty = JsonDocument.Parse(await unknown.Content.ReadAsStringAsync());
        Assert.Equal(0, empty.RootElement.GetProperty("manifests").GetArrayLength());
    }

    [Fact]
    public async Task Referrers_of_a_registry_without_the_api_get_its_404_so_that_clients_fall_back_to_the_tag_scheme()
    {
        await using var agent = await StartAgentAsync(_registry.BaseUri);
        var path = $"/v2/{_image.Repository}/referrers/{_image.ManifestDigest}";

        using var direct = await _http.GetAsync(new Uri(_registry.BaseUri, path));
        using var mirrored = await _http.GetAsync(new Uri(agent.BaseUri, $"{path}?ns={Harbor}"));
        using var malformed = await _http.GetAsync(new Uri(agent.BaseUri, $"/v2/{_image.Repository}/referrers/sha256:abc?ns={Harbor}"));

        Assert.Equal(HttpStatusCode.NotFound, direct.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, mirrored.StatusCode);
        Assert.Equal(OciErrorCode.ManifestUnknown, ErrorCode(await mirrored.Content.ReadAsStringAsync()));
        Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);
        Assert.Equal(OciErrorCode.DigestInvalid, ErrorCode(await malformed.Content.ReadAsStringAsync()));
    }

    private static Task<AgentProcess> StartAgentAsync(Uri upstream, params string[] arguments) =>
        AgentProcess.StartAsync([.. AgentProcess.Upstream(Harbor, upstream), "--connect-timeout", "1s", .. arguments]);

    // <path?query>; rel="next" → path?query
    private static string NextPage(string link)
    {
        Assert.EndsWith(">; rel=\"next\"", link, StringComparison.Ordinal);
        Assert.StartsWith("</v2/", link, StringComparison.Ordinal);
        return link[1..link.IndexOf('>', StringComparison.Ordinal)];
    }

    private static string? ErrorCode(string body) =>
        JsonDocument.Parse(body).RootElement.GetProperty("errors")[0].GetProperty("code").GetString();
}
