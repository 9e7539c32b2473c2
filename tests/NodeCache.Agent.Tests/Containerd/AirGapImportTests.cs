using Microsoft.Extensions.Logging.Abstractions;
using NodeCache.Archive;
using NodeCache.Oci;
using NodeCache.Store;
using NodeCache.Telemetry;
using NodeCache.Testing;

namespace NodeCache.Agent.Tests.Containerd;

/// <summary>
/// Images carried as files into a cluster with no registry: imported into a node's cache while the agent is stopped, then
/// pulled by real containerd through the real agent with no upstream running.
/// </summary>
public sealed class AirGapImportTests(ContainerdFixture fixture) : IClassFixture<ContainerdFixture>
{
    private const string Harbor = "harbor.test";

    private ContainerdProcess Containerd => fixture.Containerd;

    [Fact]
    public async Task Imported_oci_layout_and_docker_save_images_are_pulled_with_no_upstream_and_export_then_reimport_keeps_every_digest()
    {
        using var builder = new OciImageBuilder(seed: 531);
        var fromLayout = await builder.BuildAsync("library/layout-app", "1", [512 * OciImageBuilder.KiB, 16 * OciImageBuilder.KiB]);
        var fromDockerSave = await builder.BuildAsync("team/saved-app", "2", [256 * OciImageBuilder.KiB, 8 * OciImageBuilder.KiB]);
        using var folder = TempFolder.Create("airgap");
        var firstCache = folder.Combine("first", create: true);
        ImportResult layoutImport, dockerImport;
        using (var cache = OfflineCache.Open(firstCache))
        {
            using var layout = new MemoryStream();
            await ImageArchive.WriteOciLayoutAsync(layout, [(fromLayout, "1")]);
            layout.Position = 0;
            layoutImport = await cache.Import.ImportAsync(layout, new ImportRequest(Harbor, RepositoryName.Parse(fromLayout.Repository)));
            using var saved = new MemoryStream();
            await ImageArchive.WriteDockerSaveAsync(saved, fromDockerSave, $"{fromDockerSave.Repository}:{fromDockerSave.Tag}");
            saved.Position = 0;
            dockerImport = await cache.Import.ImportAsync(saved, new ImportRequest(Harbor));
            await cache.CheckpointAsync();
        }
        Assert.True(layoutImport.Succeeded, layoutImport.Error);
        Assert.True(dockerImport.Succeeded, dockerImport.Error);
        Assert.Equal(fromLayout.ManifestDigest, layoutImport.Images[0].Manifest);
        // No registry anywhere: the agent's upstream and containerd's server are ports nothing listens on.
        string[] noUpstream = ["--upstream", $"{Harbor}=http://127.0.0.1:{LoopbackPort.Next()}", "--connect-timeout", "1s"];

        await using (var agent = await AgentProcess.StartAsync(noUpstream, firstCache))
        {
            Containerd.WriteHosts(Harbor, $"http://127.0.0.1:{LoopbackPort.Next()}", agent.BaseUri.ToString().TrimEnd('/'));
            await PullBothAsync(fromLayout, fromDockerSave);
        }

        var archive = folder.Combine("images.tar");
        ExportResult exported;
        using (var cache = OfflineCache.Open(firstCache))
        {
            await using var output = File.Create(archive);
            exported = await cache.Export.ExportAsync(
                [new ExportReference(Harbor, RepositoryName.Parse(fromLayout.Repository), "1"), new ExportReference(Harbor, RepositoryName.Parse(fromDockerSave.Repository), "2")],
                output);
        }
        Assert.True(exported.Succeeded, exported.Error);
        var secondCache = folder.Combine("second", create: true);
        ImportResult reimport;
        using (var cache = OfflineCache.Open(secondCache))
        {
            await using var input = File.OpenRead(archive);
            reimport = await cache.Import.ImportAsync(input, new ImportRequest(Harbor));
            await cache.CheckpointAsync();
        }
        Assert.True(reimport.Succeeded, reimport.Error);
        Assert.Equal([layoutImport.Images[0].Manifest, dockerImport.Images[0].Manifest], reimport.Images.Select(i => i.Manifest));
        Assert.Equal(
            layoutImport.Images[0].Blobs.Concat(dockerImport.Images[0].Blobs).Select(d => d.ToString()).Order(StringComparer.Ordinal),
            reimport.Images.SelectMany(i => i.Blobs).Select(d => d.ToString()).Order(StringComparer.Ordinal));

        await using (var agent = await AgentProcess.StartAsync(noUpstream, secondCache))
        {
            Containerd.WriteHosts(Harbor, $"http://127.0.0.1:{LoopbackPort.Next()}", agent.BaseUri.ToString().TrimEnd('/'));
            await PullBothAsync(fromLayout, fromDockerSave);
        }
    }

    private async Task PullBothAsync(BuiltImage fromLayout, BuiltImage fromDockerSave)
    {
        await Containerd.PullAsync(fromLayout.Reference(Harbor));
        Assert.Equal(fromDockerSave.Config.Digest.ToString(), await Containerd.CriPullAsync(fromDockerSave.Reference(Harbor)));
        var content = await Containerd.ContentDigestsAsync();
        Assert.All(fromLayout.Blobs, b => Assert.Contains(b.Digest.ToString(), content));
        await Containerd.RemoveImageAsync(fromLayout.Reference(Harbor));
        await Containerd.CriRemoveAsync(fromDockerSave.Reference(Harbor));
    }

    /// <summary>A node's cache opened with the agent stopped, as an import into it would run.</summary>
    private sealed class OfflineCache : IDisposable
    {
        private readonly CacheIndex _index;
        private readonly PolicyMetrics _metrics = new();

        private OfflineCache(string folder)
        {
            var layout = new CacheLayout(folder);
            _index = CacheIndex.Open(layout.IndexDirectory, NullLogger.Instance);
            var store = new BlobStore(layout, _index.Blobs, TimeProvider.System, NullLogger.Instance);
            Import = new ImageImport(layout, store, _index.Tags, _metrics, TimeProvider.System, NullLogger.Instance);
            Export = new ImageExport(store, _index.Tags);
        }

        public ImageImport Import { get; }

        public ImageExport Export { get; }

        public static OfflineCache Open(string folder) => new(folder);

        public ValueTask CheckpointAsync() => _index.CheckpointAsync();

        public void Dispose()
        {
            _index.Dispose();
            _metrics.Dispose();
        }
    }
}
