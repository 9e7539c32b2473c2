using NodeCache.Oci;

namespace NodeCache.Store.Blobs;

/// <summary>Where the cache keeps its files: blobs/sha256/&lt;hex&gt;, tmp/ for fills in progress, index/ for FASTER, quarantine/ for corrupt blobs.</summary>
public sealed class CacheLayout
{
    private readonly string _blobDirectory;

    /// <summary>Creates the folders under <paramref name="root"/> if they are missing.</summary>
    public CacheLayout(string root)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(root);
        Root = Path.TrimEndingDirectorySeparator(Path.GetFullPath(root));
        _blobDirectory = Path.Combine(Root, "blobs", "sha256");
        // tmp/ sits beside blobs/ on the same file system, so committing a fill is a rename, never a copy.
        TempDirectory = Path.Combine(Root, "tmp");
        IndexDirectory = Path.Combine(Root, "index");
        QuarantineDirectory = Path.Combine(Root, "quarantine");
        Directory.CreateDirectory(_blobDirectory);
        Directory.CreateDirectory(TempDirectory);
        Directory.CreateDirectory(IndexDirectory);
    }

    public string Root { get; }

    public string TempDirectory { get; }

    public string IndexDirectory { get; }

    /// <summary>Where blobs that failed a scrub are moved, for a person to look at; nothing reads them again.</summary>
    public string QuarantineDirectory { get; }

    /// <summary>The folder of every cached blob file.</summary>
    public string BlobDirectory => _blobDirectory;

    public string BlobPath(Digest digest) => Path.Combine(_blobDirectory, digest.Hex);

    /// <summary>A file name under tmp/ that no other fill uses, even one of the same digest.</summary>
    public string NewTempPath(Digest digest) => Path.Combine(TempDirectory, $"{digest.Hex}.{Guid.NewGuid():N}");
}
