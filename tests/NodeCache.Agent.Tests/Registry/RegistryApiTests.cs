using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using NodeCache.Testing;
using NodeCache.Oci;

namespace NodeCache.Agent.Tests.Registry;

/// <summary>The pull side of the distribution API as the real agent answers it, in front of the real registry.</summary>
public sealed class RegistryApiTests : IAsyncLifetime
{
    private const string Harbor = "harbor.test";

    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(10) };
    private readonly OciImageBuilder _builder = new(seed: 301);
    private RegistryProcess _registry = null!;
    private AgentProcess _agent = null!;
    private BuiltImage _oci = null!;
    private BuiltImage _docker = null!;
    private BuiltIndex _index = null!;

    public async Task InitializeAsync()
    {
        _registry = await RegistryProcess.StartAsync();
        _oci = await _builder.BuildAsync("a/b/c/d", "1.0", [64 * OciImageBuilder.KiB, 8 * OciImageBuilder.KiB]);
        _docker = await _builder.BuildAsync("library/legacy", "latest", [16 * OciImageBuilder.KiB], ManifestFormat.Docker);
        _index = await _builder.BuildIndexAsync("library/multi", "2", [8 * OciImageBuilder.KiB]);
        var pusher = OciPusher.For(_registry);
        await pusher.PushAsync(_oci);
        await pusher.PushAsync(_docker);
        await pusher.PushAsync(_index);
        _agent = await AgentProcess.StartAsync(AgentProcess.Upstream(Harbor, _registry.BaseUri));
    }

    public async Task DisposeAsync()
    {
        await _agent.DisposeAsync();
        await _registry.DisposeAsync();
        _builder.Dispose();
        _http.Dispose();
    }

    [Fact]
    public async Task The_api_base_answers_200_with_the_version_header()
    {
        using var response = await _http.GetAsync(Url("/v2/"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("registry/2.0", Assert.Single(response.Headers.GetValues("Docker-Distribution-API-Version")));
    }

    [Fact]
    public async Task A_head_by_tag_carries_digest_length_and_the_manifests_own_media_type()
    {
        foreach (var image in new[] { _oci, _docker })
        {
            using var head = await SendAsync(HttpMethod.Head, $"/v2/{image.Repository}/manifests/{image.Tag}?ns={Harbor}", MediaTypes.ManifestAccept);

            Assert.Equal(HttpStatusCode.OK, head.StatusCode);
            Assert.Equal(image.ManifestDigest.ToString(), Assert.Single(head.Headers.GetValues("Docker-Content-Digest")));
            Assert.Equal(image.ManifestBytes.Length, head.Content.Headers.ContentLength);
            Assert.Equal(image.ManifestMediaType, head.Content.Headers.ContentType?.MediaType);
            Assert.Equal($"\"{image.ManifestDigest}\"", head.Headers.ETag?.Tag);
            Assert.Empty(await head.Content.ReadAsByteArrayAsync());
        }
    }

    [Fact]
    public async Task A_nested_repository_serves_its_manifest_and_blobs_byte_for_byte()
    {
        using var manifest = await SendAsync(HttpMethod.Get, $"/v2/{_oci.Repository}/manifests/{_oci.Tag}?ns={Harbor}", MediaTypes.ManifestAccept);
        Assert.Equal(_oci.ManifestBytes, await manifest.Content.ReadAsByteArrayAsync());

        foreach (var blob in _oci.Blobs)
        {
            using var response = await _http.GetAsync(Url($"/v2/{_oci.Repository}/blobs/{blob.Digest}?ns={Harbor}"));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(blob.ReadAllBytes(), await response.Content.ReadAsByteArrayAsync());
            Assert.Equal(blob.Digest.ToString(), Assert.Single(response.Headers.GetValues("Docker-Content-Digest")));
        }
    }

    [Fact]
    public async Task A_multi_arch_index_is_served_as_an_index_when_accepted()
    {
        using var response = await SendAsync(HttpMethod.Get, $"/v2/{_index.Repository}/manifests/{_index.Tag}?ns={Harbor}", MediaTypes.ManifestAccept);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(MediaTypes.OciIndex, response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(_index.IndexDigest.ToString(), Assert.Single(response.Headers.GetValues("Docker-Content-Digest")));
        Assert.Equal(_index.IndexBytes, await response.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task The_clients_accept_header_is_what_the_upstream_negotiates_with()
    {
        // The registry has no conversion to offer: asking only for a Docker manifest of an OCI image is a miss upstream.
        using var refused = await SendAsync(HttpMethod.Get, $"/v2/{_oci.Repository}/manifests/{_oci.Tag}?ns={Harbor}", MediaTypes.DockerManifest);
        using var accepted = await SendAsync(HttpMethod.Get, $"/v2/{_oci.Repository}/manifests/{_oci.Tag}?ns={Harbor}", MediaTypes.OciManifest);

        Assert.Equal(HttpStatusCode.NotFound, refused.StatusCode);
        Assert.Equal(OciErrorCode.ManifestUnknown, await ErrorCodeAsync(refused));
        Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
        Assert.Equal(MediaTypes.OciManifest, accepted.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task An_etag_match_answers_304()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, Url($"/v2/{_oci.Repository}/manifests/{_oci.ManifestDigest}?ns={Harbor}"));
        request.Headers.IfNoneMatch.Add(new EntityTagHeaderValue($"\"{_oci.ManifestDigest}\""));

        using var response = await _http.SendAsync(request);

        Assert.Equal(HttpStatusCode.NotModified, response.StatusCode);
    }

    [Theory]
    [InlineData("/v2/Upper/case/manifests/1", HttpStatusCode.BadRequest, OciErrorCode.NameInvalid)]
    [InlineData("/v2/a..b/manifests/1", HttpStatusCode.BadRequest, OciErrorCode.NameInvalid)]
    [InlineData("/v2/a%2Fb/manifests/1", HttpStatusCode.BadRequest, OciErrorCode.NameInvalid)]
    [InlineData("/v2/a/b/blobs/sha256:xyz", HttpStatusCode.BadRequest, OciErrorCode.DigestInvalid)]
    [InlineData("/v2/a/b/blobs/latest", HttpStatusCode.BadRequest, OciErrorCode.DigestInvalid)]
    [InlineData("/v2/a/b/manifests/md5:abc", HttpStatusCode.BadRequest, OciErrorCode.DigestInvalid)]
    [InlineData("/v2/a/b/manifests/-bad-tag", HttpStatusCode.NotFound, OciErrorCode.ManifestUnknown)]
    [InlineData("/v2/a/b/manifests/.INVALID_MANIFEST_NAME", HttpStatusCode.NotFound, OciErrorCode.ManifestUnknown)]
    [InlineData("/v2/a/b/referrers/sha256:xyz", HttpStatusCode.BadRequest, OciErrorCode.DigestInvalid)]
    [InlineData("/v2/a/b/nothing/here", HttpStatusCode.NotFound, OciErrorCode.NameUnknown)]
    public async Task Malformed_requests_get_the_specs_error_code(string path, HttpStatusCode status, string code)
    {
        using var response = await _http.GetAsync(Url(path + $"?ns={Harbor}"));

        Assert.Equal(status, response.StatusCode);
        Assert.Equal(code, await ErrorCodeAsync(response));
    }

    [Theory]
    [InlineData("PUT", "/v2/a/b/manifests/1")]
    [InlineData("DELETE", "/v2/a/b/manifests/1")]
    [InlineData("DELETE", "/v2/a/b/blobs/sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824")]
    [InlineData("POST", "/v2/a/b/blobs/uploads/")]
    [InlineData("PATCH", "/v2/a/b/blobs/uploads/1234")]
    public async Task Push_and_delete_answer_405_unsupported(string method, string path)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), Url(path)) { Content = new ByteArrayContent([1]) };

        using var response = await _http.SendAsync(request);

        Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
        Assert.Equal(OciErrorCode.Unsupported, await ErrorCodeAsync(response));
    }

    [Theory]
    [InlineData("registry.unknown.test")]
    [InlineData("docker.io")]
    public async Task A_miss_of_a_registry_without_a_rule_gets_a_404_at_once_so_containerd_moves_on(string ns)
    {
        // A freshly started agent compiles each path on its first request; what containerd meets is every later one.
        (await _http.GetAsync(Url($"/v2/warm/up/manifests/1?ns=warm-up.{ns}"))).Dispose();
        (await _http.GetAsync(Url($"/v2/warm/up/blobs/{Digest.Compute([8])}?ns=warm-up.{ns}"))).Dispose();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        using var manifest = await _http.GetAsync(Url($"/v2/library/nginx/manifests/latest?ns={ns}"));
        using var blob = await _http.GetAsync(Url($"/v2/library/nginx/blobs/{Digest.Compute([7])}?ns={ns}"));
        var elapsed = clock.Elapsed;

        Assert.Equal(HttpStatusCode.NotFound, manifest.StatusCode);
        Assert.Equal(OciErrorCode.ManifestUnknown, await ErrorCodeAsync(manifest));
        Assert.Contains($"no upstream is configured for registry '{ns}'", await manifest.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, blob.StatusCode);
        Assert.Equal(OciErrorCode.BlobUnknown, await ErrorCodeAsync(blob));
        // What containerd would wait for before trying its next host: nothing was sent anywhere.
        Assert.True(elapsed < TimeSpan.FromSeconds(1), $"two misses took {elapsed}");
    }

    [Fact]
    public async Task An_ns_that_is_not_a_host_is_refused()
    {
        using var response = await _http.GetAsync(Url("/v2/library/nginx/manifests/latest?ns=evil.example%2Fpath"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(OciErrorCode.NameInvalid, await ErrorCodeAsync(response));
    }

    [Fact]
    public async Task Unknown_content_upstream_is_a_404_with_the_right_code()
    {
        using var manifest = await SendAsync(HttpMethod.Get, $"/v2/{_oci.Repository}/manifests/no-such-tag?ns={Harbor}", MediaTypes.ManifestAccept);
        using var blob = await _http.GetAsync(Url($"/v2/{_oci.Repository}/blobs/{Digest.Compute([9, 9, 9])}?ns={Harbor}"));

        Assert.Equal(HttpStatusCode.NotFound, manifest.StatusCode);
        Assert.Equal(OciErrorCode.ManifestUnknown, await ErrorCodeAsync(manifest));
        Assert.Equal(HttpStatusCode.NotFound, blob.StatusCode);
        Assert.Equal(OciErrorCode.BlobUnknown, await ErrorCodeAsync(blob));
    }

    private Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string accept)
    {
        var request = new HttpRequestMessage(method, Url(path));
        request.Headers.TryAddWithoutValidation("Accept", accept);
        return _http.SendAsync(request);
    }

    private Uri Url(string pathAndQuery) => new(_agent.BaseUri, pathAndQuery);

    private static async Task<string?> ErrorCodeAsync(HttpResponseMessage response)
    {
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return document.RootElement.GetProperty("errors")[0].GetProperty("code").GetString();
    }
}
