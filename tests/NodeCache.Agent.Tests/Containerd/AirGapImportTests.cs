using System.Formats.Tar;
using System.Text.Json;
using NodeCache.Testing;

namespace NodeCache.Agent.Tests.Containerd;

/// <summary>
/// Images carried as files into a cluster with no registry: imported with the nodecache CLI through a running agent's
/// control socket, then pulled by real containerd through the agent with no upstream running anywhere.
/// </summary>
public sealed class AirGapImportTests(ContainerdFixture fixture) : IClassFixture<ContainerdFixture>
{
    private const string Harbor = "harbor.test";

    // No registry anywhere: the agent's upstream and containerd's server are ports nothing listens on.
    private static readonly string[] NoUpstream = ["--upstream", $"{Harbor}=http://127.0.0.1:{LoopbackPort.Next()}", "--connect-timeout", "1s"];

    private ContainerdProcess Containerd => fixture.Containerd;

    [Fact]
    public async Task An_oci_layout_folder_an_oci_layout_tar_and_a_docker_save_tar_imported_with_the_cli_are_pulled_with_no_upstream()
    {
        using var builder = new OciImageBuilder(seed: 531);
        var inFolder = await builder.BuildAsync("library/folder-app", "1", [512 * OciImageBuilder.KiB, 16 * OciImageBuilder.KiB]);
        var inTar = await builder.BuildAsync("team/layout-app", "2", [128 * OciImageBuilder.KiB]);
        var saved = await builder.BuildAsync("team/saved-app", "3", [256 * OciImageBuilder.KiB, 8 * OciImageBuilder.KiB]);
        using var files = TempFolder.Create("airgap");
        var folder = files.Combine("layout", create: true);
        using (var layout = new MemoryStream())
        {
            await ImageArchive.WriteOciLayoutAsync(layout, [(inFolder, $"{inFolder.Repository}:{inFolder.Tag}")]);
            layout.Position = 0;
            await TarFile.ExtractToDirectoryAsync(layout, folder, overwriteFiles: false);
        }
        var layoutTar = files.Combine("layout.tar");
        await using (var output = File.Create(layoutTar))
        {
            // By tag alone, as `skopeo copy oci:DIR:TAG` names it: the repository comes from --repository.
            await ImageArchive.WriteOciLayoutAsync(output, [(inTar, inTar.Tag!)]);
        }
        var savedTar = files.Combine("saved.tar");
        await using (var output = File.Create(savedTar))
        {
            await ImageArchive.WriteDockerSaveAsync(output, saved, $"{saved.Repository}:{saved.Tag}");
        }
        await using var agent = await AgentProcess.StartAsync(NoUpstream);

        var fromFolder = await NodeCacheCli.RunAsync(agent, "import", folder, "--registry", Harbor);
        var fromTar = await NodeCacheCli.RunAsync(agent, "import", layoutTar, "--registry", Harbor, "--repository", inTar.Repository, "-o", "json");
        var fromDockerSave = await NodeCacheCli.RunAsync(agent, "import", savedTar, "--registry", Harbor);

        Assert.True(fromFolder.Succeeded, fromFolder.Stderr);
        Assert.Contains($"{Harbor}/{inFolder.Repository}:1", fromFolder.Stdout, StringComparison.Ordinal);
        Assert.Contains($"{inFolder.ManifestDigest}", fromFolder.Stdout, StringComparison.Ordinal);
        Assert.Contains($"imported 1 images: {inFolder.Blobs.Count + 1} blobs", fromFolder.Stdout, StringComparison.Ordinal);
        Assert.True(fromTar.Succeeded, fromTar.Stderr);
        var imported = Assert.Single(JsonDocument.Parse(fromTar.Stdout).RootElement.GetProperty("images").EnumerateArray());
        Assert.Equal($"{Harbor}/{inTar.Repository}:2", imported.GetProperty("image").GetString());
        Assert.Equal(inTar.ManifestDigest.ToString(), imported.GetProperty("digest").GetString());
        Assert.Equal(
            inTar.Blobs.Select(b => b.Digest.ToString()).Append(inTar.ManifestDigest.ToString()).Order(StringComparer.Ordinal),
            imported.GetProperty("blobs").EnumerateArray().Select(b => b.GetString()!).Order(StringComparer.Ordinal));
        Assert.True(fromDockerSave.Succeeded, fromDockerSave.Stderr);
        Assert.Contains($"{Harbor}/{saved.Repository}:3", fromDockerSave.Stdout, StringComparison.Ordinal);

        Containerd.WriteHosts(Harbor, $"http://127.0.0.1:{LoopbackPort.Next()}", agent.BaseUri.ToString().TrimEnd('/'));
        await PullAsync(inFolder);
        await PullAsync(inTar);
        // A docker save image gets an OCI manifest of its uncompressed layers; its config, and so the image's ID, is the same.
        Assert.Equal(saved.Config.Digest.ToString(), await Containerd.CriPullAsync(saved.Reference(Harbor)));
        await Containerd.CriRemoveAsync(saved.Reference(Harbor));

        using var http = new HttpClient();
        var metrics = await AgentMetrics.ReadAsync(http, agent.BaseUri, CancellationToken.None);
        var blobs = inFolder.Blobs.Count + inTar.Blobs.Count + saved.Blobs.Count + 3;
        Assert.Equal(3, metrics.Value("nodecache_imported_images_total", AgentMetrics.Labels()));
        Assert.Equal(blobs, metrics.Value("nodecache_imported_blobs_total", AgentMetrics.Labels()));
        Assert.True(metrics.Value("nodecache_imported_bytes_total", AgentMetrics.Labels()) > inFolder.Blobs.Sum(b => b.Size) + inTar.Blobs.Sum(b => b.Size));
    }

    [Fact]
    public async Task An_export_written_with_the_cli_imports_into_a_fresh_agent_with_every_digest_unchanged_and_pulls_again()
    {
        using var builder = new OciImageBuilder(seed: 532);
        var first = await builder.BuildAsync("library/exported-app", "1", [300 * OciImageBuilder.KiB, 12 * OciImageBuilder.KiB]);
        var second = await builder.BuildAsync("team/exported-saved", "2", [200 * OciImageBuilder.KiB]);
        using var files = TempFolder.Create("airgap-export");
        var layoutTar = files.Combine("layout.tar");
        await using (var output = File.Create(layoutTar))
        {
            await ImageArchive.WriteOciLayoutAsync(output, [(first, $"{first.Repository}:{first.Tag}")]);
        }
        var savedTar = files.Combine("saved.tar");
        await using (var output = File.Create(savedTar))
        {
            await ImageArchive.WriteDockerSaveAsync(output, second, $"{second.Repository}:{second.Tag}");
        }
        var exported = files.Combine("exported.tar");
        List<string> before;
        await using (var agent = await AgentProcess.StartAsync(NoUpstream))
        {
            var imports = new[]
            {
                await NodeCacheCli.RunAsync(agent, "import", layoutTar, "--registry", Harbor, "-o", "json"),
                await NodeCacheCli.RunAsync(agent, "import", savedTar, "--registry", Harbor, "-o", "json"),
            };
            Assert.All(imports, run => Assert.True(run.Succeeded, run.Stderr));
            before = [.. imports.SelectMany(Digests)];

            var export = await NodeCacheCli.RunAsync(agent, "export", first.Reference(Harbor), second.Reference(Harbor), "-o", exported);

            Assert.True(export.Succeeded, export.Stderr);
            Assert.Contains($"exported 2 images to {exported}", export.Stdout, StringComparison.Ordinal);
            Assert.Empty(Directory.GetFiles(files.Path, ".*partial"));
        }

        await using (var fresh = await AgentProcess.StartAsync(NoUpstream))
        {
            var reimport = await NodeCacheCli.RunAsync(fresh, "import", exported, "--registry", Harbor, "-o", "json");

            Assert.True(reimport.Succeeded, reimport.Stderr);
            Assert.Equal(before.Order(StringComparer.Ordinal), Digests(reimport).Order(StringComparer.Ordinal));
            Containerd.WriteHosts(Harbor, $"http://127.0.0.1:{LoopbackPort.Next()}", fresh.BaseUri.ToString().TrimEnd('/'));
            await PullAsync(first);
            Assert.Equal(second.Config.Digest.ToString(), await Containerd.CriPullAsync(second.Reference(Harbor)));
            await Containerd.CriRemoveAsync(second.Reference(Harbor));
        }
    }

    [Fact]
    public async Task An_image_imported_for_a_registry_without_an_upstream_rule_is_pulled_while_other_registries_have_rules()
    {
        const string AirGap = "airgap.test";
        using var builder = new OciImageBuilder(seed: 533);
        var image = await builder.BuildAsync("team/offline-app", "1", [192 * OciImageBuilder.KiB, 8 * OciImageBuilder.KiB]);
        using var files = TempFolder.Create("airgap-rules");
        var layoutTar = files.Combine("layout.tar");
        await using (var output = File.Create(layoutTar))
        {
            await ImageArchive.WriteOciLayoutAsync(output, [(image, $"{image.Repository}:{image.Tag}")]);
        }
        // Rules for harbor.test only: airgap.test has no upstream and no _default to fall to.
        await using var agent = await AgentProcess.StartAsync(NoUpstream);
        var import = await NodeCacheCli.RunAsync(agent, "import", layoutTar, "--registry", AirGap);
        Assert.True(import.Succeeded, import.Stderr);

        Containerd.WriteHosts(AirGap, $"http://127.0.0.1:{LoopbackPort.Next()}", agent.BaseUri.ToString().TrimEnd('/'));
        await Containerd.PullAsync(image.Reference(AirGap));
        Assert.Equal(image.Config.Digest.ToString(), await Containerd.CriPullAsync(image.Reference(AirGap)));
        using var http = new HttpClient();
        using var missing = await http.GetAsync(new Uri(agent.BaseUri, $"/v2/{image.Repository}/manifests/2?ns={AirGap}"));

        var content = await Containerd.ContentDigestsAsync();
        Assert.All(image.Blobs, b => Assert.Contains(b.Digest.ToString(), content));
        Assert.Equal(System.Net.HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Contains($"no upstream is configured for registry '{AirGap}'", await missing.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        await Containerd.RemoveImageAsync(image.Reference(AirGap));
        await Containerd.CriRemoveAsync(image.Reference(AirGap));
    }

    // Every digest an import reports: each image's manifest and the blobs it consists of.
    private static IEnumerable<string> Digests(ToolRun import) =>
        JsonDocument.Parse(import.Stdout).RootElement.GetProperty("images").EnumerateArray()
            .SelectMany(i => i.GetProperty("blobs").EnumerateArray().Select(b => b.GetString()!).Prepend(i.GetProperty("digest").GetString()!))
            .ToList();

    private async Task PullAsync(BuiltImage image)
    {
        await Containerd.PullAsync(image.Reference(Harbor));
        var content = await Containerd.ContentDigestsAsync();
        Assert.All(image.Blobs, b => Assert.Contains(b.Digest.ToString(), content));
        await Containerd.RemoveImageAsync(image.Reference(Harbor));
    }
}
