using NodeCache.Archive;
using NodeCache.Store.Blobs;
using NodeCache.Store.Index;
using NodeCache.Telemetry;

namespace NodeCache.Agent.Control;

/// <summary>Wires the control API's Import and Export calls to the domain's <see cref="ImageImport"/> and <see cref="ImageExport"/>.</summary>
internal static class ImageArchiveApi
{
    public static void AddImageArchives(this IServiceCollection services)
    {
        services.AddSingleton(sp => new ImageImport(
            sp.GetRequiredService<CacheLayout>(), sp.GetRequiredService<BlobStore>(), sp.GetRequiredService<TagIndex>(), sp.GetRequiredService<PolicyMetrics>(),
            TimeProvider.System, sp.GetRequiredService<ILogger<ImageImport>>()));
        services.AddSingleton(sp => new ImageExport(sp.GetRequiredService<BlobStore>(), sp.GetRequiredService<TagIndex>()));
        services.AddSingleton<ImportCall>();
        services.AddSingleton<ExportCall>();
    }
}
