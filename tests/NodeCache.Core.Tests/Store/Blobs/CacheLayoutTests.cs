using NodeCache.Core.Tests.Support;
using NodeCache.Oci;
using NodeCache.Store.Blobs;
using NodeCache.Testing;

namespace NodeCache.Core.Tests.Store.Blobs;

public sealed class CacheLayoutTests : IDisposable
{
    private readonly TempFolder _folder = TempFolder.Create("cache-layout");

    public void Dispose() => _folder.Dispose();

    [Fact]
    public void Layout_creates_its_folders()
    {
        var layout = new CacheLayout(Path.Combine(_folder.Path, "cache"));

        Assert.True(Directory.Exists(Path.Combine(layout.Root, "blobs", "sha256")));
        Assert.Equal(Path.Combine(layout.Root, "tmp"), layout.TempDirectory);
        Assert.Equal(Path.Combine(layout.Root, "index"), layout.IndexDirectory);
        Assert.True(Directory.Exists(layout.TempDirectory));
        Assert.True(Directory.Exists(layout.IndexDirectory));
    }

    [Fact]
    public void Blob_path_is_the_hex_digest_under_blobs_sha256()
    {
        var layout = new CacheLayout(_folder.Path);
        var digest = TestDigests.Of("layer");

        Assert.Equal(Path.Combine(_folder.Path, "blobs", "sha256", digest.Hex), layout.BlobPath(digest));
    }

    [Fact]
    public void Temp_paths_are_unique_names_under_tmp_starting_with_the_hex_digest()
    {
        var layout = new CacheLayout(_folder.Path);
        var digest = TestDigests.Of("layer");

        var first = layout.NewTempPath(digest);
        var second = layout.NewTempPath(digest);

        Assert.NotEqual(first, second);
        Assert.All([first, second], path =>
        {
            Assert.Equal(layout.TempDirectory, Path.GetDirectoryName(path));
            Assert.StartsWith(digest.Hex + ".", Path.GetFileName(path), StringComparison.Ordinal);
        });
    }

    [Fact]
    public void Relative_roots_are_made_absolute()
    {
        var layout = new CacheLayout(Path.GetRelativePath(Environment.CurrentDirectory, _folder.Path));

        Assert.Equal(Path.GetFullPath(_folder.Path), layout.Root);
        Assert.True(Path.IsPathRooted(layout.BlobPath(default(Digest))));
    }
}
