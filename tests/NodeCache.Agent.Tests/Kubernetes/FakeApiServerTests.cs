using System.Diagnostics;
using NodeCache.Testing;
using NodeCache.Testing.Kubernetes;

namespace NodeCache.Agent.Tests.Kubernetes;

/// <summary>The fake API server checked with a real client: kubectl lists and watches it as it would a cluster.</summary>
public sealed class FakeApiServerTests
{
    [Fact]
    public async Task Kubectl_get_pods_watch_lists_then_streams_added_modified_and_deleted_pods()
    {
        await using var api = await FakeApiServer.StartAsync();
        using var folder = TempFolder.Create("kubectl");
        var kubeconfig = folder.Combine("kubeconfig");
        api.WriteKubeconfig(kubeconfig);
        api.Apply(KubernetesObjects.Pod("first", ["harbor.test/app:1"], "node-a"));

        var info = new ProcessStartInfo(Kubectl.BinaryPath)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in (string[])["--kubeconfig", kubeconfig, "get", "pods", "--watch", "--output", "custom-columns=NAME:.metadata.name,NODE:.spec.nodeName,PHASE:.status.phase", "--no-headers"])
        {
            info.ArgumentList.Add(argument);
        }
        using var kubectl = Process.Start(info)!;
        var stderr = kubectl.StandardError.ReadToEndAsync();
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            async Task<string> NextLineAsync() =>
                (await kubectl.StandardOutput.ReadLineAsync(timeout.Token))?.Trim() ?? throw new InvalidOperationException($"kubectl ended: {await stderr}");
            static string Columns(string line) => string.Join(' ', line.Split(' ', StringSplitOptions.RemoveEmptyEntries));

            Assert.Equal("first node-a Pending", Columns(await NextLineAsync()));
            api.Apply(KubernetesObjects.Pod("second", ["harbor.test/app:1"]));
            Assert.Equal("second <none> Pending", Columns(await NextLineAsync()));
            api.Update("pods", "default", "second", pod => KubernetesObjects.Bind(pod, "node-b"));
            Assert.Equal("second node-b Pending", Columns(await NextLineAsync()));
            api.Update("pods", "default", "first", pod => KubernetesObjects.SetPhase(pod, "Running"));
            Assert.Equal("first node-a Running", Columns(await NextLineAsync()));

            var requests = api.Requests();
            Assert.Contains(requests, r => r.StartsWith("GET /api/v1/namespaces/default/pods?", StringComparison.Ordinal) && r.Contains("watch=true", StringComparison.Ordinal) && r.Contains("resourceVersion=", StringComparison.Ordinal));
        }
        finally
        {
            kubectl.Kill(entireProcessTree: true);
            await kubectl.WaitForExitAsync();
        }
    }
}
