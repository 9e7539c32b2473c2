using System.Net;
using System.Text.Json;
using NodeCache.Oci;
using NodeCache.Testing;
using Xunit.Abstractions;

namespace NodeCache.Agent.Tests.Registry;

/// <summary>
/// The read-side checks of the OCI distribution-spec conformance tests (pull, and content discovery: tag lists and
/// referrers), sent to the real registry directly and to the real agent in front of it, with the registry as the control:
/// for every check the agent answers as the registry does, or better.
/// </summary>
public sealed class ConformanceControlTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const string Harbor = "harbor.test";
    private const string Repository = "conformance/pull";

    // The conformance tests' name for a manifest no registry holds: not even a valid tag.
    private const string NonexistentManifest = ".INVALID_MANIFEST_NAME";

    private static readonly string[] Tags = ["test0", "test1", "test2", "test3"];
    private static readonly Digest DummyDigest = Digest.Compute("a blob nobody pushed"u8);

    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(30) };
    private readonly OciImageBuilder _builder = new(seed: 1602);
    private RegistryProcess _registry = null!;
    private AgentProcess _agent = null!;
    private BuiltImage _image = null!;

    public async Task InitializeAsync()
    {
        _registry = await RegistryProcess.StartAsync();
        _image = await _builder.BuildAsync(Repository, Tags[0], [8 * OciImageBuilder.KiB]);
        var pusher = OciPusher.For(_registry);
        await pusher.PushAsync(_image);
        foreach (var tag in Tags.Skip(1))
        {
            await pusher.PushManifestAsync(Repository, tag, _image.Manifest);
        }
        // As the conformance tests reach a registry: no ns, so the agent's default registry is the one behind it.
        _agent = await AgentProcess.StartAsync([.. AgentProcess.Upstream(Harbor, _registry.BaseUri), "--default-registry", Harbor]);
    }

    public async Task DisposeAsync()
    {
        await _agent.DisposeAsync();
        await _registry.DisposeAsync();
        _builder.Dispose();
        _http.Dispose();
    }

    [Fact]
    public async Task Every_read_side_conformance_check_is_answered_as_the_registry_answers_it_or_better()
    {
        var config = _image.Config.Digest;
        var manifest = _image.ManifestDigest;
        var half = Tags.Length / 2;
        Check[] checks =
        [
            new("base API route: GET /v2/ is 200", HttpMethod.Get, "/v2/", null, r => r.Status == 200),
            new("pull: HEAD of a nonexistent blob is 404", HttpMethod.Head, $"/v2/{Repository}/blobs/{DummyDigest}", null, r => r.Status == 404),
            new("pull: HEAD of an existing blob is 200", HttpMethod.Head, $"/v2/{Repository}/blobs/{config}", null, r => r.Status == 200 && r.DigestHeaderIs(config)),
            new("pull: GET of a nonexistent blob is 404", HttpMethod.Get, $"/v2/{Repository}/blobs/{DummyDigest}", null, r => r.Status == 404),
            new("pull: GET of an existing blob is 200", HttpMethod.Get, $"/v2/{Repository}/blobs/{config}", null, r => r.Status == 200, CompareBody: true),
            new("pull: HEAD of a nonexistent manifest is 404", HttpMethod.Head, $"/v2/{Repository}/manifests/{NonexistentManifest}", null, r => r.Status == 404),
            new("pull: HEAD of a manifest by digest is 200", HttpMethod.Head, $"/v2/{Repository}/manifests/{manifest}", MediaTypes.OciManifest, r => r.Status == 200 && r.DigestHeaderIs(manifest)),
            new("pull: GET of a manifest by tag is 200", HttpMethod.Get, $"/v2/{Repository}/manifests/{Tags[0]}", MediaTypes.OciManifest, r => r.Status == 200 && r.DigestHeaderIs(manifest), CompareBody: true),
            new("pull: GET of a nonexistent manifest is 404", HttpMethod.Get, $"/v2/{Repository}/manifests/{NonexistentManifest}", null, r => r.Status == 404),
            new("pull: GET of a manifest by digest is 200", HttpMethod.Get, $"/v2/{Repository}/manifests/{manifest}", MediaTypes.OciManifest, r => r.Status == 200, CompareBody: true),
            new("discovery: GET of the tag list is 200", HttpMethod.Get, $"/v2/{Repository}/tags/list", null, r => r.Status == 200 && r.TagList().Order(StringComparer.Ordinal).SequenceEqual(Tags)),
            new("discovery: the tag list is limited by n", HttpMethod.Get, $"/v2/{Repository}/tags/list?n={half}", null, r => r.Status == 200 && r.TagList().Count == half),
            new("discovery: the tag list starts after last", HttpMethod.Get, $"/v2/{Repository}/tags/list?n={half}&last={Tags[half - 1]}", null,
                r => r.Status == 200 && r.TagList().Count <= half && !r.TagList().Contains(Tags[half - 1])),
            new("discovery: referrers of a nonexistent manifest are an empty 200 index", HttpMethod.Get, $"/v2/{Repository}/referrers/{DummyDigest}", null,
                r => r.Status == 200 && r.ContentType == MediaTypes.OciIndex && r.ReferrerCount() == 0),
            new("discovery: referrers of an existing manifest are a 200 index", HttpMethod.Get, $"/v2/{Repository}/referrers/{manifest}", null,
                r => r.Status == 200 && r.ContentType == MediaTypes.OciIndex),
        ];

        var failures = new List<string>();
        var agentFails = new List<string>();
        foreach (var check in checks)
        {
            var direct = await SendAsync(_registry.BaseUri, check);
            var mirrored = await SendAsync(_agent.BaseUri, check);
            var (registryPasses, agentPasses) = (check.Passes(direct), check.Passes(mirrored));
            output.WriteLine($"{check.Name}: registry {direct.Status} {(registryPasses ? "pass" : "FAIL")}, agent {mirrored.Status} {(agentPasses ? "pass" : "FAIL")}");
            if (!agentPasses)
            {
                agentFails.Add(check.Name);
            }
            if (registryPasses && !agentPasses)
            {
                failures.Add($"{check.Name}: the registry passes ({direct.Status}) and the agent does not ({mirrored.Status}: {mirrored.Text})");
            }
            else if (!registryPasses && !agentPasses && direct.Status != mirrored.Status)
            {
                failures.Add($"{check.Name}: both fail, the agent with another status ({mirrored.Status}) than the registry ({direct.Status})");
            }
            else if (registryPasses && check.CompareBody && !direct.Body.AsSpan().SequenceEqual(mirrored.Body))
            {
                failures.Add($"{check.Name}: the agent's body is not the registry's");
            }
        }

        Assert.Empty(failures);
        // The registry (2.8) has no referrers API: it answers 404, and so does the agent, so that clients fall back to the
        // referrers tag scheme. Every other check passes through the agent, the tag list's n and last included, which the
        // registry ignores.
        Assert.Equal(checks.Where(c => c.Name.StartsWith("discovery: referrers", StringComparison.Ordinal)).Select(c => c.Name), agentFails);
    }

    private async Task<Answer> SendAsync(Uri server, Check check)
    {
        using var request = new HttpRequestMessage(check.Method, new Uri(server, check.Path));
        if (check.Accept is not null)
        {
            request.Headers.TryAddWithoutValidation("Accept", check.Accept);
        }
        using var response = await _http.SendAsync(request);
        var digest = response.Headers.TryGetValues("Docker-Content-Digest", out var values) ? values.FirstOrDefault() : null;
        return new Answer((int)response.StatusCode, response.Content.Headers.ContentType?.MediaType, digest, await response.Content.ReadAsByteArrayAsync());
    }

    private sealed record Check(string Name, HttpMethod Method, string Path, string? Accept, Func<Answer, bool> Passes, bool CompareBody = false);

    private sealed record Answer(int Status, string? ContentType, string? DigestHeader, byte[] Body)
    {
        public string Text => System.Text.Encoding.UTF8.GetString(Body);

        // The spec lets a registry leave the header out; one that sends it must send the right digest.
        public bool DigestHeaderIs(Digest digest) => DigestHeader is null || DigestHeader == digest.ToString();

        public IReadOnlyList<string> TagList()
        {
            using var document = JsonDocument.Parse(Body);
            return [.. document.RootElement.GetProperty("tags").EnumerateArray().Select(t => t.GetString()!)];
        }

        public int ReferrerCount()
        {
            using var document = JsonDocument.Parse(Body);
            return document.RootElement.GetProperty("manifests").GetArrayLength();
        }
    }
}
