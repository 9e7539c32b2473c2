using System.Net;
using NodeCache.Agent.Tests.Prefetch;
using NodeCache.Testing;
using NodeCache.Testing.Kubernetes;

namespace NodeCache.Agent.Tests.Access;

/// <summary>
/// A private repository on the real registry behind the real token server: the agent has no credentials of its own,
/// pods carry pull secrets (alice may pull it, mallory may not), and each <c>--private-images</c> mode decides who the
/// cached image is served to.
/// </summary>
public sealed class PrivateImageTests
{
    private const string Node = PrefetchScenario.NodeName;
    private const string Registry = PrefetchScenario.Namespace;
    private const string Repository = "team/private";
    private static readonly long[] Layers = [64 * OciImageBuilder.KiB];

    [Fact]
    public async Task Verify_serves_a_private_image_only_while_every_pod_naming_it_holds_an_accepted_pull_secret()
    {
        await using var setup = await PrivateSetup.StartAsync(seed: 320, "verify");
        var scenario = setup.Scenario;
        scenario.Api.Apply(KubernetesObjects.Pod("alice-pod", [setup.Reference], Node, pullSecrets: ["alice-secret"]));
        await scenario.WaitForLogAsync($"Prefetched {setup.Reference} for linux/amd64", "the private image is prefetched with alice's pull secret");
        Assert.True(scenario.IsCached(setup.Image));
        Assert.Contains(setup.Tokens.Requests(), r => r.User == "alice" && r.Granted.Count > 0);

        Assert.Equal(HttpStatusCode.OK, await setup.MirrorStatusAsync("manifests", "1"));
        Assert.Equal(HttpStatusCode.OK, await setup.MirrorStatusAsync("blobs", setup.Image.Layers[0].Digest.ToString()));

        // A pod that holds no accepted secret names the repository: the kubelet's pull may be its, so the cache is closed.
        scenario.Api.Apply(KubernetesObjects.Pod("mallory-pod", [setup.Reference], Node, pullSecrets: ["mallory-secret"]));
        await scenario.WaitUntilAsync(() => setup.MirrorStatusAsync("manifests", "1").Result == HttpStatusCode.Forbidden, "the mirror refuses the private manifest");
        Assert.Equal(HttpStatusCode.Forbidden, await setup.MirrorStatusAsync("blobs", setup.Image.Layers[0].Digest.ToString()));

        scenario.Api.Delete("pods", "default", "mallory-pod");
        await scenario.WaitUntilAsync(() => setup.MirrorStatusAsync("manifests", "1").Result == HttpStatusCode.OK, "the mirror serves the private manifest again");
        Assert.Equal(HttpStatusCode.OK, await setup.MirrorStatusAsync("blobs", setup.Image.Layers[0].Digest.ToString()));
        Assert.DoesNotContain("alice-password", scenario.Agent.Output.Text(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verify_refuses_a_private_image_no_pod_on_the_node_names()
    {
        await using var setup = await PrivateSetup.StartAsync(seed: 321, "verify");
        setup.Scenario.Api.Apply(KubernetesObjects.Pod("alice-pod", [setup.Reference], Node, pullSecrets: ["alice-secret"]));
        await setup.Scenario.WaitCachedAsync(setup.Image, "the private image is prefetched");
        setup.Scenario.Api.Delete("pods", "default", "alice-pod");

        await setup.Scenario.WaitUntilAsync(() => setup.MirrorStatusAsync("manifests", "1").Result == HttpStatusCode.Forbidden, "the mirror refuses the private manifest");
    }

    [Fact]
    public async Task Passthrough_neither_prefetches_nor_serves_a_private_image()
    {
        await using var setup = await PrivateSetup.StartAsync(seed: 322, "passthrough");
        var scenario = setup.Scenario;
        scenario.Api.Apply(KubernetesObjects.Pod("alice-pod", [setup.Reference], Node, pullSecrets: ["alice-secret"]));
        await scenario.WaitForLogAsync($"Not prefetching {setup.Reference}", "the agent declines the private image");

        Assert.Equal(HttpStatusCode.Forbidden, await setup.MirrorStatusAsync("manifests", "1"));
        Assert.Equal(HttpStatusCode.Forbidden, await setup.MirrorStatusAsync("blobs", setup.Image.Layers[0].Digest.ToString()));
        Assert.False(scenario.IsCached(setup.Image.ManifestDigest));
        Assert.All(setup.Image.Blobs, blob => Assert.False(scenario.IsCached(blob.Digest)));
    }

    [Fact]
    public async Task Serve_prefetches_with_the_service_accounts_pull_secret_and_serves_every_pod()
    {
        await using var setup = await PrivateSetup.StartAsync(seed: 323, "serve");
        var scenario = setup.Scenario;
        scenario.Api.Apply(KubernetesObjects.ServiceAccount("builder", ["alice-secret"]));
        scenario.Api.Apply(KubernetesObjects.Pod("alice-pod", [setup.Reference], Node, serviceAccount: "builder"));
        scenario.Api.Apply(KubernetesObjects.Pod("mallory-pod", [setup.Reference], Node, pullSecrets: ["mallory-secret"]));
        await scenario.WaitCachedAsync(setup.Image, "the private image is prefetched with the service account's secret");

        Assert.Equal(HttpStatusCode.OK, await setup.MirrorStatusAsync("manifests", "1"));
        Assert.Equal(HttpStatusCode.OK, await setup.MirrorStatusAsync("blobs", setup.Image.Layers[0].Digest.ToString()));
    }

    private sealed class PrivateSetup : IAsyncDisposable
    {
        private PrivateSetup(TokenServer tokens, PrefetchScenario scenario, BuiltImage image)
        {
            Tokens = tokens;
            Scenario = scenario;
            Image = image;
        }

        public TokenServer Tokens { get; }

        public PrefetchScenario Scenario { get; }

        public BuiltImage Image { get; }

        public string Reference => Image.Reference(Registry);

        public static async Task<PrivateSetup> StartAsync(int seed, string mode)
        {
            var policy = new AccessPolicy()
                .WithUser("alice", "alice-password").Grant("alice", Repository, RepositoryAccess.Pull)
                .WithUser("mallory", "mallory-password");
            var tokens = await TokenServer.StartAsync(policy);
            PrefetchScenario? scenario = null;
            try
            {
                var registry = await RegistryProcess.StartAsync(tokens);
                scenario = await PrefetchScenario.StartAsync(seed, registry: registry, agentArguments: ["--pull-secrets", "true", "--private-images", mode]);
                scenario.Api.Apply(KubernetesObjects.PullSecret("alice-secret", Registry, "alice", "alice-password"));
                scenario.Api.Apply(KubernetesObjects.PullSecret("mallory-secret", Registry, "mallory", "mallory-password"));
                var image = await scenario.PushImageAsync(Repository, Layers);
                return new PrivateSetup(tokens, scenario, image);
            }
            catch
            {
                if (scenario is not null)
                {
                    await scenario.DisposeAsync();
                }
                await tokens.DisposeAsync();
                throw;
            }
        }

        /// <summary>What containerd would get from the mirror for a manifest or blob of the private repository.</summary>
        public async Task<HttpStatusCode> MirrorStatusAsync(string kind, string reference)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(Scenario.Agent.BaseUri, $"/v2/{Repository}/{kind}/{reference}?ns={Registry}"));
            request.Headers.TryAddWithoutValidation("Accept", Image.ManifestMediaType);
            using var response = await Scenario.Http.SendAsync(request);
            await response.Content.ReadAsByteArrayAsync();
            return response.StatusCode;
        }

        public async ValueTask DisposeAsync()
        {
            await Scenario.DisposeAsync();
            await Tokens.DisposeAsync();
        }
    }
}
