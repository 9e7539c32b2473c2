using NodeCache.Oci;

namespace NodeCache.Store.Blobs;

/// <summary>
/// Where the cache keeps its files: blobs/&lt;algorithm&gt;/&lt;hex&gt; (blobs/sha256/, blobs/sha512/), tmp/ for fills in
/// progress, index/ for FASTER, quarantine/ for corrupt blobs.
/// </summary>
public sealed class CacheLayout
{
    private readonly string[] _blobDirectories;

    /// <summary>Creates the folders under <paramref name="root"/> if they are missing.</summary>
    public CacheLayout(string root)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(root);
        Root = Path.TrimEndingDirectorySeparator(Path.GetFullPath(root));
        _blobDirectories = [.. DigestAlgorithms.All.Select(algorithm => Path.Combine(Root, "blobs", algorithm.Name))];
        // tmp/ sits beside blobs/ on the same file system, so committing a fill is a rename, never a copy.
        TempDirectory = Path.Combine(Root, "tmp");
        IndexDirectory = Path.Combine(Root, "index");
        QuarantineDirectory = Path.Combine(Root, "quarantine");
        foreach (var directory in _blobDirectories)
        {
            Directory.CreateDirectory(directory);
        }
        Directory.CreateDirectory(TempDirectory);
        Directory.CreateDirectory(IndexDirectory);
    }

    public string Root { get; }

    public string TempDirectory { get; }

    public string IndexDirectory { get; }

    /// <summary>Where blobs that failed a scrub are moved, for a person to look at; nothing reads them again.</summary>
    public string QuarantineDirectory { get; }

    /// <summary>The folder of every cached blob file whose digest is of <paramref name="algorithm"/>.</summary>
    public string BlobDirectory(DigestAlgorithm algorithm) => _blobDirectories[(int)algorithm];

    public string BlobPath(Digest digest) => Path.Combine(BlobDirectory(digest.Algorithm), digest.Hex);

    /// <summary>A file name under tmp/ that no other fill uses, even one of the same digest.</summary>
    public string NewTempPath(Digest digest) => Path.Combine(TempDirectory, $"{digest.Hex}.{Guid.NewGuid():N}");
}
