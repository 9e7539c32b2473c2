using NodeCache.DashboardPicture;
using NodeCache.Testing;

// Real peers on loopback: the registry standing in for Harbor, the agent mirroring it, containerd pulling through it.
var output = args.Length > 0 ? args[0] : "docs/dashboard.svg";
const string Harbor = "harbor.test";
await using var registry = await RegistryProcess.StartAsync();
using var builder = new OciImageBuilder(seed: 4242);
var app = await builder.BuildAsync("team/app", "1.4", [24 * OciImageBuilder.MiB, 6 * OciImageBuilder.MiB, 512 * OciImageBuilder.KiB]);
var tools = await builder.BuildAsync("team/tools", "2", [12 * OciImageBuilder.MiB, 2 * OciImageBuilder.MiB]);
var batch = await builder.BuildAsync("team/batch", "7", [16 * OciImageBuilder.MiB]);
foreach (var image in new[] { app, tools, batch })
{
    await OciPusher.For(registry).PushAsync(image);
}
await using var agent = await AgentProcess.StartAsync(AgentProcess.Upstream(Harbor, registry.BaseUri));
await using var containerd = await ContainerdProcess.StartAsync();
containerd.WriteHosts(Harbor, registry.BaseUri.ToString().TrimEnd('/'), agent.BaseUri.ToString().TrimEnd('/'));

using var scrapes = new ScrapeRecorder(agent.BaseUri, TimeSpan.FromSeconds(1));
var pause = TimeSpan.FromSeconds(5);
await Task.Delay(pause);
Console.WriteLine("cold pull of team/app");
await containerd.PullAsync(app.Reference(Harbor));
await Task.Delay(pause);
await containerd.RemoveImageAsync(app.Reference(Harbor));
Console.WriteLine("warm pull of team/app");
await containerd.PullAsync(app.Reference(Harbor));
await Task.Delay(pause);
Console.WriteLine("cold pull of team/tools");
await containerd.PullAsync(tools.Reference(Harbor));
await Task.Delay(pause);
await containerd.RemoveImageAsync(app.Reference(Harbor));
await containerd.RemoveImageAsync(tools.Reference(Harbor));
Console.WriteLine("warm pulls of both at once");
await Task.WhenAll(containerd.PullAsync(app.Reference(Harbor)), containerd.PullAsync(tools.Reference(Harbor)));
await Task.Delay(pause);
Console.WriteLine("nodecache prewarm of team/batch, then its pull");
(await NodeCacheCli.RunAsync(agent, "prewarm", batch.Reference(Harbor))).EnsureSucceeded();
await containerd.PullAsync(batch.Reference(Harbor));
await Task.Delay(pause * 2);
var samples = await scrapes.StopAsync();

var svg = DashboardSvg.Render(Panels.All, samples, $"{samples.Count} scrapes of a real nodecache-agent, one a second, during containerd pulls of 3 images");
Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(output))!);
await File.WriteAllTextAsync(output, svg);
Console.WriteLine($"wrote {output}");
