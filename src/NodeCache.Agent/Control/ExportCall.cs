using Grpc.Core;
using NodeCache.Agent.Configuration;
using NodeCache.Archive;
using NodeCache.Control.V1;
using NodeCache.Oci;

namespace NodeCache.Agent.Control;

/// <summary>
/// One Export call: the images are checked to be cached, then <see cref="ImageExport"/> writes their OCI layout tar
/// straight into the response, and an <see cref="ExportDone"/> closes it, so a client can tell a whole archive from a cut one.
/// </summary>
internal sealed class ExportCall(ImageExport export, AgentOptions options, ILogger<ExportCall> logger)
{
    public async Task RunAsync(ExportRequest request, IServerStreamWriter<ExportChunk> responseStream, ServerCallContext context)
    {
        if (request.Images.Count == 0)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, "name at least one image"));
        }
        var references = new List<ExportReference>();
        foreach (var text in request.Images)
        {
            if (!ImageReference.TryParse(text, options.DefaultRegistry, out var reference, out var error))
            {
                throw new RpcException(new Status(StatusCode.InvalidArgument, $"bad image reference '{text}': {error}"));
            }
            references.Add(new ExportReference(reference.Registry, reference.Repository, reference.Reference));
        }
        var cancellationToken = context.CancellationToken;
        await using var download = new ArchiveDownload(responseStream, cancellationToken);
        var result = await export.ExportAsync(references, download, progress: null, cancellationToken).ConfigureAwait(false);
        if (!result.Succeeded)
        {
            // Before the first byte every failure is an image the cache does not hold whole; after it, a blob left meanwhile.
            logger.LogWarning("Export of {Images} failed after {Bytes} bytes: {Reason}", string.Join(", ", references), download.Written, result.Error);
            throw new RpcException(new Status(download.Written == 0 ? StatusCode.NotFound : StatusCode.Aborted, result.Error!));
        }
        await download.FlushAsync(cancellationToken).ConfigureAwait(false);
        await responseStream.WriteAsync(new ExportChunk { Done = new ExportDone { Images = result.Images, Blobs = result.Blobs, Bytes = result.Bytes } }, cancellationToken)
            .ConfigureAwait(false);
        logger.LogInformation("Exported {Images}: {Blobs} blobs, {Bytes} bytes", string.Join(", ", references), result.Blobs, result.Bytes);
    }
}
