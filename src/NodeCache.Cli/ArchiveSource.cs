using System.Formats.Tar;
using System.IO.Pipelines;

namespace NodeCache.Cli;

/// <summary>
/// The bytes of an archive to import, read once in order: a file as it is (a tar, a .tar.gz, a named pipe), or a folder (an
/// OCI image layout) tarred on the fly, so the agent gets one stream whatever the user holds and needs no path of the CLI's.
/// </summary>
internal sealed class ArchiveSource : IAsyncDisposable
{
    private readonly CancellationTokenSource? _stopTarring;
    private readonly Task _tarring;

    private ArchiveSource(Stream stream, long? size, CancellationTokenSource? stopTarring, Task tarring)
    {
        Stream = stream;
        Size = size;
        _stopTarring = stopTarring;
        _tarring = tarring;
    }

    public Stream Stream { get; }

    /// <summary>The length of a regular file; null for a folder being tarred or a pipe.</summary>
    public long? Size { get; }

    public static ArchiveSource Open(string path)
    {
        if (Directory.Exists(path))
        {
            var pipe = new Pipe();
            var stop = new CancellationTokenSource();
            var tarring = Task.Run(async () =>
            {
                try
                {
                    await TarFile.CreateFromDirectoryAsync(path, pipe.Writer.AsStream(), includeBaseDirectory: false, stop.Token).ConfigureAwait(false);
                    await pipe.Writer.CompleteAsync().ConfigureAwait(false);
                }
                catch (Exception ex)
                {
                    // The reader sees the failure where the bytes stop, and the upload fails instead of ending short.
                    await pipe.Writer.CompleteAsync(ex).ConfigureAwait(false);
                }
            });
            return new ArchiveSource(pipe.Reader.AsStream(), null, stop, tarring);
        }
        if (!File.Exists(path))
        {
            throw new CliFailure(ExitCode.Usage, $"{path}: no such file or folder");
        }
        try
        {
            var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.Asynchronous | FileOptions.SequentialScan);
            return new ArchiveSource(file, file.CanSeek ? file.Length : null, null, Task.CompletedTask);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new CliFailure(ExitCode.Failed, $"cannot read {path}: {ex.Message}");
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_stopTarring is not null)
        {
            await _stopTarring.CancelAsync().ConfigureAwait(false);
        }
        await Stream.DisposeAsync().ConfigureAwait(false);
        await _tarring.ConfigureAwait(false);
        _stopTarring?.Dispose();
    }
}
