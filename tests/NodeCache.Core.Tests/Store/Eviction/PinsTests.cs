using Microsoft.Extensions.Logging.Abstractions;
using NodeCache.Core.Tests.Support;
using NodeCache.Oci;
using NodeCache.Store.Eviction;
using NodeCache.Store.Images;
using NodeCache.Testing;

namespace NodeCache.Core.Tests.Store.Eviction;

public sealed class PinsTests : IDisposable
{
    private readonly TempFolder _folder = TempFolder.Create("pins");

    public void Dispose() => _folder.Dispose();

    [Fact]
    public void Pins_of_digests_and_images_survive_a_restart()
    {
        var digest = TestDigests.Of(1);
        var byTag = new PinnedImage("harbor.test", RepositoryName.Parse("library/app"), "1.2");
        var byDigest = new PinnedImage("127.0.0.1:5000", RepositoryName.Parse("team/tool"), TestDigests.Of(2).ToString());
        var pins = Pins.Load(_folder.Path, NullLogger.Instance);
        Assert.True(pins.Pin(digest));
        Assert.True(pins.Pin(byTag));
        Assert.True(pins.Pin(byDigest));
        Assert.False(pins.Pin(digest));

        var reloaded = Pins.Load(_folder.Path, NullLogger.Instance);

        Assert.Equal([digest], reloaded.Digests);
        Assert.Equal(new HashSet<PinnedImage> { byTag, byDigest }, reloaded.Images.ToHashSet());
    }

    [Fact]
    public void Unpinning_survives_a_restart_and_unpinning_what_is_not_pinned_says_so()
    {
        var digest = TestDigests.Of(1);
        var image = new PinnedImage("harbor.test", RepositoryName.Parse("library/app"), "1");
        var pins = Pins.Load(_folder.Path, NullLogger.Instance);
        pins.Pin(digest);
        pins.Pin(image);

        Assert.True(pins.Unpin(digest));
        Assert.True(pins.Unpin(image));
        Assert.False(pins.Unpin(digest));

        var reloaded = Pins.Load(_folder.Path, NullLogger.Instance);
        Assert.Empty(reloaded.Digests);
        Assert.Empty(reloaded.Images);
    }

    [Fact]
    public void An_unreadable_pins_file_is_kept_aside_and_the_cache_starts_with_no_pins()
    {
        var path = Path.Combine(_folder.Path, Pins.FileName);
        File.WriteAllText(path, "{ not json");

        var pins = Pins.Load(_folder.Path, NullLogger.Instance);

        Assert.Empty(pins.Digests);
        Assert.True(File.Exists(path + ".unreadable"));
        Assert.False(File.Exists(path));
    }

    [Theory]
    [InlineData("harbor.test/library/app:1", "harbor.test", "library/app", "1")]
    [InlineData("127.0.0.1:5000/team/tool:v2.0", "127.0.0.1:5000", "team/tool", "v2.0")]
    [InlineData("docker.io/library/nginx@sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "docker.io", "library/nginx", "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")]
    [InlineData("app:1", "docker.io", "library/app", "1")]
    [InlineData("harbor.test/library/app", "harbor.test", "library/app", "latest")]
    public void An_image_reference_pins_its_registry_repository_and_reference_as_a_pull_names_them(string text, string registry, string repository, string reference)
    {
        Assert.True(ImageReference.TryParse(text, out var parsed));
        var image = PinnedImage.From(parsed);

        Assert.Equal(new PinnedImage(registry, RepositoryName.Parse(repository), reference), image);
        Assert.Equal($"{parsed.Registry}/{parsed.Repository}{(parsed.Digest is null ? ":" : "@")}{parsed.Reference}", image.ToString());
    }

    [Fact]
    public void An_image_named_by_tag_and_digest_is_pinned_by_its_digest()
    {
        var digest = TestDigests.Of(3);

        Assert.True(ImageReference.TryParse($"harbor.test/library/app:1@{digest}", out var parsed));

        Assert.Equal(new PinnedImage("harbor.test", RepositoryName.Parse("library/app"), digest.ToString()), PinnedImage.From(parsed));
    }
}
