using System.Net;
using NodeCache.Testing;

namespace NodeCache.Agent.Tests.Hosting;

/// <summary>The README's first command: the agent with no flags at all, and the direct mode it implies.</summary>
public sealed class AgentDefaultsTests
{
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(10) };

    [Fact]
    public async Task With_no_flags_the_agent_serves_on_loopback_5050_and_caches_in_the_user_cache_folder()
    {
        using var home = TempFolder.Create("home");
        using var output = new CapturedOutput(home.Combine("agent.log"));
        await using var agent = ChildProcess.Start("dotnet", ["exec", AgentProcess.AssemblyPath], output,
            new Dictionary<string, string> { ["XDG_CACHE_HOME"] = home.Path });
        var unreachable = $"127.0.0.1:{LoopbackPort.Next()}";

        await WaitReadyAsync(new Uri("http://127.0.0.1:5050/readyz"), output);
        using var miss = await _http.GetAsync(new Uri($"http://127.0.0.1:5050/v2/library/app/manifests/1?ns={unreachable}"));

        Assert.True(Directory.Exists(Path.Combine(home.Path, "nodecache", "index")), output.Tail());
        // Direct mode went to https://<ns>, found nothing listening, and said so at once.
        Assert.Equal(HttpStatusCode.ServiceUnavailable, miss.StatusCode);
        Assert.Contains($"https://{unreachable}/v2/library/app/manifests/1", output.Text(), StringComparison.Ordinal);
        Assert.Equal(0, await agent.StopAsync(TimeSpan.FromSeconds(15)));
    }

    [Fact]
    public async Task Without_rules_a_registry_named_by_ns_is_fetched_over_https_trusting_the_ca_file()
    {
        using var authority = TestCertificateAuthority.Create();
        await using var registry = await RegistryProcess.StartAsync(tls: authority);
        using var builder = new OciImageBuilder(seed: 501);
        var image = await builder.BuildAsync("team/tls", "1", [16 * OciImageBuilder.KiB]);
        await OciPusher.For(registry).PushAsync(image);
        await using var trusting = await AgentProcess.StartAsync(["--ca-file", authority.CaPath]);
        await using var untrusting = await AgentProcess.StartAsync([]);

        using var manifest = await GetManifestAsync(trusting, image, registry.HostPort);
        using var blob = await _http.GetAsync(new Uri(trusting.BaseUri, $"/v2/{image.Repository}/blobs/{image.Layers[0].Digest}?ns={registry.HostPort}"));
        using var refused = await GetManifestAsync(untrusting, image, registry.HostPort);

        Assert.Equal(HttpStatusCode.OK, manifest.StatusCode);
        Assert.Equal(image.ManifestBytes, await manifest.Content.ReadAsByteArrayAsync());
        Assert.Equal(image.Layers[0].ReadAllBytes(), await blob.Content.ReadAsByteArrayAsync());
        Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
    }

    private Task<HttpResponseMessage> GetManifestAsync(AgentProcess agent, BuiltImage image, string ns)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, new Uri(agent.BaseUri, $"/v2/{image.Repository}/manifests/{image.Tag}?ns={ns}"));
        request.Headers.TryAddWithoutValidation("Accept", Oci.MediaTypes.ManifestAccept);
        return _http.SendAsync(request);
    }

    private async Task WaitReadyAsync(Uri readyz, CapturedOutput output)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            try
            {
                using var response = await _http.GetAsync(readyz);
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException) when (DateTime.UtcNow < deadline)
            {
            }
            Assert.True(DateTime.UtcNow < deadline, $"the agent did not become ready on {readyz}\n{output.Tail()}");
            await Task.Delay(100);
        }
    }
}
