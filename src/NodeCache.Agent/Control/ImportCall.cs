using System.Threading.Channels;
using Grpc.Core;
using NodeCache.Archive;
using NodeCache.Control.V1;
using NodeCache.Oci;
using NodeCache.Store.Eviction;
using ImportResult = NodeCache.Archive.ImportResult;

namespace NodeCache.Agent.Control;

/// <summary>
/// One Import call: the archive is handed to <see cref="ImageImport"/> as it arrives, progress goes back while it is read
/// and verified, and the result last. Nothing is cached unless the whole archive arrived and passed every check: a
/// refused archive, a short upload and a client that goes away all end the import before its commit.
/// </summary>
internal sealed class ImportCall(ImageImport import, Pins pins, ILogger<ImportCall> logger)
{
    public async Task RunAsync(IAsyncStreamReader<ImportChunk> requestStream, IServerStreamWriter<ImportEvent> responseStream, ServerCallContext context)
    {
        var cancellationToken = context.CancellationToken;
        if (!await requestStream.MoveNext(cancellationToken).ConfigureAwait(false) || requestStream.Current.PartCase != ImportChunk.PartOneofCase.Start)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, "an import begins with an ImportStart naming the registry"));
        }
        var request = Request(requestStream.Current.Start);
        var upload = new ArchiveUpload(requestStream, requestStream.Current.Start.Size, cancellationToken);
        // Only the latest progress matters: a slow client gets fewer updates, never a slower import.
        var progress = Channel.CreateBounded<ArchiveProgress>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropOldest });
        var sending = SendProgressAsync(progress.Reader, responseStream, cancellationToken);
        ImportResult result;
        try
        {
            logger.LogInformation("Importing an archive for {Registry} from the control API", request.Registry);
            result = await import.ImportAsync(upload, request, new ChannelProgress(progress.Writer), cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            logger.LogWarning("Import abandoned by the client after {Bytes} bytes; nothing imported", upload.Received);
            throw;
        }
        catch (IOException ex)
        {
            // The cache's disk, not the archive: a full or failing file system while the archive was staged.
            logger.LogError(ex, "Import failed after {Bytes} bytes; nothing imported", upload.Received);
            throw new RpcException(new Status(StatusCode.Internal, $"the agent could not stage the archive, nothing imported: {ex.Message}"));
        }
        finally
        {
            progress.Writer.TryComplete();
            await sending.ConfigureAwait(false);
        }
        if (!result.Succeeded)
        {
            throw new RpcException(new Status(StatusCode.DataLoss, $"the archive was refused, nothing imported: {result.Error}"));
        }
        await upload.DrainAsync(cancellationToken).ConfigureAwait(false);
        var message = ToMessage(result, request.Registry);
        if (request.Pin)
        {
            message.PinnedBlobs = Pin(result);
        }
        await responseStream.WriteAsync(new ImportEvent { Result = message }, cancellationToken).ConfigureAwait(false);
    }

    private static NodeCache.Archive.ImportRequest Request(ImportStart start)
    {
        if (!RegistryHost.IsValid(start.Registry))
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, $"'{start.Registry}' is not a registry name"));
        }
        RepositoryName? repository = null;
        if (start.Repository.Length > 0 && !RepositoryName.TryParse(start.Repository, out repository))
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, $"'{start.Repository}' is not a repository name"));
        }
        return new NodeCache.Archive.ImportRequest(start.Registry, repository, start.Pin);
    }

    // By manifest digest, not by tag: a pinned manifest keeps every blob it names, and what was imported stays kept
    // even when a tag of it moves on later. One pin per image, as each pin rewrites pins.json.
    private int Pin(ImportResult result)
    {
        foreach (var manifest in result.Images.Select(i => i.Manifest).Distinct())
        {
            pins.Pin(manifest);
        }
        var blobs = result.Images.SelectMany(i => i.Blobs).Distinct().Count();
        logger.LogInformation("Pinned {Images} imported images, {Blobs} blobs", result.Images.Count, blobs);
        return blobs;
    }

    private static async Task SendProgressAsync(ChannelReader<ArchiveProgress> progress, IServerStreamWriter<ImportEvent> responseStream, CancellationToken cancellationToken)
    {
        await foreach (var step in progress.ReadAllAsync(cancellationToken).ConfigureAwait(false))
        {
            await responseStream.WriteAsync(new ImportEvent { Progress = new ImportProgress { Stage = step.Stage, Files = step.Files, Bytes = step.Bytes } }, cancellationToken)
                .ConfigureAwait(false);
        }
    }

    private static NodeCache.Control.V1.ImportResult ToMessage(ImportResult result, string registry)
    {
        var message = new NodeCache.Control.V1.ImportResult { NewBlobs = result.NewBlobs, NewBytes = result.NewBytes };
        foreach (var image in result.Images)
        {
            var imported = new NodeCache.Control.V1.ImportedImage
            {
                Image = image.Repository is null ? image.Manifest.ToString()
                    : image.Tag is null ? $"{registry}/{image.Repository}@{image.Manifest}"
                    : $"{registry}/{image.Repository}:{image.Tag}",
                Digest = image.Manifest.ToString(),
                MediaType = image.MediaType,
            };
            imported.Blobs.AddRange(image.Blobs.Select(b => b.ToString()));
            message.Images.Add(imported);
        }
        return message;
    }

    private sealed class ChannelProgress(ChannelWriter<ArchiveProgress> writer) : IProgress<ArchiveProgress>
    {
        public void Report(ArchiveProgress value) => writer.TryWrite(value);
    }
}
