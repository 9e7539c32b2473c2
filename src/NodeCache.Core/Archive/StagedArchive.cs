using System.Buffers;
using System.Formats.Tar;
using System.IO.Compression;
using System.IO.Pipelines;
using NodeCache.Oci;
using NodeCache.Store.Blobs;

namespace NodeCache.Archive;

/// <summary>
/// Every regular file of an archive (a tar, gzip'd or not, or a folder) copied into the cache's temp folder in one pass,
/// hashed as it is written, so the archive is read once whatever order its entries come in, and a verified blob is
/// committed by a rename. Disposing deletes every staged file that was not committed.
/// </summary>
internal sealed class StagedArchive : IDisposable
{
    private const int CopyBufferSize = 1 << 20;

    // Symbolic links that point further than this are refused rather than followed (docker save links one level deep).
    private const int MaxLinkHops = 8;

    private readonly Dictionary<string, StagedFile> _files = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _links = new(StringComparer.Ordinal);
    private readonly CacheLayout _layout;
    private readonly IProgress<ArchiveProgress>? _progress;
    private long _bytes;

    private StagedArchive(CacheLayout layout, IProgress<ArchiveProgress>? progress)
    {
        _layout = layout;
        _progress = progress;
    }

    public static async Task<StagedArchive> FromTarAsync(Stream tar, CacheLayout layout, IProgress<ArchiveProgress>? progress, CancellationToken cancellationToken)
    {
        var staged = new StagedArchive(layout, progress);
        try
        {
            // `docker save | gzip` and .tar.gz layouts: the compression is the file's, not part of any digest. The first bytes
            // are looked at through a pipe, which hands them on again, so a stream that cannot seek (an upload) works too.
            var input = PipeReader.Create(tar, new StreamPipeReaderOptions(leaveOpen: true));
            var start = await input.ReadAtLeastAsync(2, cancellationToken).ConfigureAwait(false);
            var isGzip = IsGzip(start.Buffer);
            input.AdvanceTo(start.Buffer.Start);
            var raw = input.AsStream();
            var gzip = isGzip ? new GZipStream(raw, CompressionMode.Decompress, leaveOpen: true) : null;
            try
            {
                await using var reader = new TarReader(gzip ?? raw, leaveOpen: true);
                while (await reader.GetNextEntryAsync(copyData: false, cancellationToken).ConfigureAwait(false) is { } entry)
                {
                    var path = Normalize(entry.Name);
                    switch (entry.EntryType)
                    {
                        case TarEntryType.RegularFile or TarEntryType.V7RegularFile or TarEntryType.ContiguousFile:
                            if (entry.DataStream is { } data)
                            {
                                await staged.StageAsync(path, data, cancellationToken).ConfigureAwait(false);
                            }
                            else
                            {
                                await staged.StageAsync(path, Stream.Null, cancellationToken).ConfigureAwait(false);
                            }
                            break;
                        case TarEntryType.SymbolicLink:
                            staged._links[path] = Normalize(Path.Combine(Path.GetDirectoryName(path) ?? "", entry.LinkName));
                            break;
                        case TarEntryType.HardLink:
                            staged._links[path] = Normalize(entry.LinkName);
                            break;
                    }
                }
            }
            finally
            {
                if (gzip is not null)
                {
                    await gzip.DisposeAsync().ConfigureAwait(false);
                }
                await raw.DisposeAsync().ConfigureAwait(false);
            }
            return staged;
        }
        catch
        {
            staged.Dispose();
            throw;
        }
    }

    public static async Task<StagedArchive> FromFolderAsync(string folder, CacheLayout layout, IProgress<ArchiveProgress>? progress, CancellationToken cancellationToken)
    {
        var staged = new StagedArchive(layout, progress);
        try
        {
            foreach (var file in Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories))
            {
                var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.Read, CopyBufferSize, useAsync: true);
                await using (stream.ConfigureAwait(false))
                {
                    await staged.StageAsync(Normalize(Path.GetRelativePath(folder, file)), stream, cancellationToken).ConfigureAwait(false);
                }
            }
            return staged;
        }
        catch
        {
            staged.Dispose();
            throw;
        }
    }

    public bool Contains(string path) => TryGet(path, out _);

    /// <summary>The staged file at <paramref name="path"/>, following links.</summary>
    public bool TryGet(string path, out StagedFile file)
    {
        path = Normalize(path);
        for (var hop = 0; hop <= MaxLinkHops; hop++)
        {
            if (_files.TryGetValue(path, out file!))
            {
                return true;
            }
            if (!_links.TryGetValue(path, out var target))
            {
                return false;
            }
            path = target;
        }
        file = null!;
        return false;
    }

    /// <summary>A staged file's bytes, for JSON documents: null when it is missing or larger than a manifest may be.</summary>
    public async Task<byte[]?> ReadSmallAsync(string path, CancellationToken cancellationToken)
    {
        if (!TryGet(path, out var file) || file.Size > MediaTypes.MaxManifestSize)
        {
            return null;
        }
        return await File.ReadAllBytesAsync(file.TempPath, cancellationToken).ConfigureAwait(false);
    }

    public void Dispose()
    {
        foreach (var file in _files.Values)
        {
            // Committed files were renamed away; deleting a missing file is a no-op.
            File.Delete(file.TempPath);
        }
    }

    private async Task StageAsync(string path, Stream data, CancellationToken cancellationToken)
    {
        var tempPath = Path.Combine(_layout.TempDirectory, $"import.{Guid.NewGuid():N}");
        using var hash = AlgorithmOf(path).CreateHash();
        var buffer = ArrayPool<byte>.Shared.Rent(CopyBufferSize);
        long size = 0;
        try
        {
            var output = new FileStream(tempPath, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, useAsync: true);
            await using (output.ConfigureAwait(false))
            {
                // Registered before the first write, so a failure part way still deletes the file.
                if (_files.Remove(path, out var replaced))
                {
                    File.Delete(replaced.TempPath);
                }
                _files[path] = new StagedFile(path, tempPath, default, 0);
                int read;
                while ((read = await data.ReadAsync(buffer.AsMemory(0, CopyBufferSize), cancellationToken).ConfigureAwait(false)) > 0)
                {
                    hash.AppendData(buffer, 0, read);
                    await output.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
                    size += read;
                }
                output.Flush(flushToDisk: true);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
        _files[path] = new StagedFile(path, tempPath, Digest.FromHash(hash), size);
        _bytes += size;
        _progress?.Report(new ArchiveProgress("reading", _files.Count, _bytes));
    }

    // An OCI layout names each blob blobs/<algorithm>/<hex>: such a file is hashed by the algorithm of its folder, so its
    // digest can be checked against its name. Every other file (docker save's layers and configs) by SHA-256, as docker does.
    private static DigestAlgorithm AlgorithmOf(string path)
    {
        var parts = path.Split('/');
        return parts is [.., "blobs", var folder, _] && DigestAlgorithms.TryParse(folder, out var algorithm) ? algorithm : DigestAlgorithm.Sha256;
    }

    private static bool IsGzip(ReadOnlySequence<byte> start)
    {
        if (start.Length < 2)
        {
            return false;
        }
        Span<byte> magic = stackalloc byte[2];
        start.Slice(0, 2).CopyTo(magic);
        return magic[0] == 0x1f && magic[1] == 0x8b;
    }

    // "./blobs/sha256/x", "/index.json" and "a/../b" name the same entries as "blobs/sha256/x", "index.json" and "b".
    internal static string Normalize(string path)
    {
        var parts = new List<string>();
        foreach (var part in path.Replace('\\', '/').Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            if (part == ".")
            {
                continue;
            }
            if (part == "..")
            {
                if (parts.Count > 0)
                {
                    parts.RemoveAt(parts.Count - 1);
                }
                continue;
            }
            parts.Add(part);
        }
        return string.Join('/', parts);
    }
}
