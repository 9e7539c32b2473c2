using Microsoft.Extensions.Logging.Abstractions;
using NodeCache.Core.Tests.Support;
using NodeCache.Oci;
using NodeCache.Store.Index;
using NodeCache.Testing;

namespace NodeCache.Core.Tests.Store.Index;

public sealed class TagIndexTests : IDisposable
{
    private static readonly DateTimeOffset T0 = new(2025, 3, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly RepositoryName Nginx = RepositoryName.Parse("library/nginx");

    private readonly TempFolder _folder = TempFolder.Create("tag-index");
    private readonly CacheIndex _index;

    public TagIndexTests() => _index = CacheIndex.Open(_folder.Path, NullLogger.Instance);

    private TagIndex Tags => _index.Tags;

    public void Dispose()
    {
        _index.Dispose();
        _folder.Dispose();
    }

    [Fact]
    public void Tag_record_round_trips()
    {
        var record = new TagRecord(TestDigests.Of("index"), MediaTypes.OciIndex, 1_234, T0);

        Tags.Upsert("registry-1.docker.io", Nginx, "1.27", record);

        Assert.True(Tags.TryGet("registry-1.docker.io", Nginx, "1.27", out var stored));
        Assert.Equal(record, stored);
    }

    [Fact]
    public void Tag_record_with_a_long_unknown_media_type_round_trips()
    {
        var mediaType = "application/vnd.example.artifact." + new string('q', 200) + "+json";
        var record = new TagRecord(TestDigests.Of("artifact"), mediaType, 99, T0);

        Tags.Upsert("ghcr.io", RepositoryName.Parse("example/artifact"), "v1", record);

        Assert.True(Tags.TryGet("ghcr.io", RepositoryName.Parse("example/artifact"), "v1", out var stored));
        Assert.Equal(record, stored);
    }

    [Fact]
    public void Registry_repository_and_tag_each_tell_records_apart()
    {
        var other = RepositoryName.Parse("library/redis");
        Tags.Upsert("docker.io", Nginx, "latest", new TagRecord(TestDigests.Of(1), MediaTypes.OciIndex, 1, T0));
        Tags.Upsert("quay.io", Nginx, "latest", new TagRecord(TestDigests.Of(2), MediaTypes.OciIndex, 2, T0));
        Tags.Upsert("docker.io", other, "latest", new TagRecord(TestDigests.Of(3), MediaTypes.OciIndex, 3, T0));
        Tags.Upsert("docker.io", Nginx, "stable", new TagRecord(TestDigests.Of(4), MediaTypes.OciIndex, 4, T0));

        Assert.True(Tags.TryGet("docker.io", Nginx, "latest", out var a));
        Assert.True(Tags.TryGet("quay.io", Nginx, "latest", out var b));
        Assert.True(Tags.TryGet("docker.io", other, "latest", out var c));
        Assert.True(Tags.TryGet("docker.io", Nginx, "stable", out var d));
        Assert.Equal([1L, 2, 3, 4], new[] { a.Size, b.Size, c.Size, d.Size });
        Assert.False(Tags.TryGet("docker.io", Nginx, "Latest", out _));
    }

    [Fact]
    public void Upsert_replaces_the_tag_record()
    {
        Tags.Upsert("docker.io", Nginx, "latest", new TagRecord(TestDigests.Of(1), MediaTypes.OciIndex, 1, T0));
        Assert.True(Tags.TryGet("docker.io", Nginx, "latest", out _), "read once, so the index remembers it");
        var moved = new TagRecord(TestDigests.Of(2), MediaTypes.DockerManifestList, 2, T0.AddHours(1));

        Tags.Upsert("docker.io", Nginx, "latest", moved);

        Assert.True(Tags.TryGet("docker.io", Nginx, "latest", out var stored));
        Assert.Equal(moved, stored);
        Assert.Equal(1, Tags.Count);
    }

    [Fact]
    public void Delete_removes_the_tag_and_says_whether_there_was_one()
    {
        Tags.Upsert("docker.io", Nginx, "latest", new TagRecord(TestDigests.Of(1), MediaTypes.OciIndex, 1, T0));
        Assert.True(Tags.TryGet("docker.io", Nginx, "latest", out _), "read once, so the index remembers it");

        Assert.True(Tags.Delete("docker.io", Nginx, "latest"));
        Assert.False(Tags.TryGet("docker.io", Nginx, "latest", out _));
        Assert.False(Tags.Delete("docker.io", Nginx, "latest"));
    }

    [Theory]
    [InlineData("docker.io", "-bad")]
    [InlineData("docker.io", "")]
    [InlineData("docker.io/library", "latest")]
    [InlineData("", "latest")]
    public void Parts_that_cannot_name_a_tag_are_never_found_and_never_stored(string registry, string tag)
    {
        var record = new TagRecord(TestDigests.Of(1), MediaTypes.OciIndex, 1, T0);

        Assert.False(Tags.TryGet(registry, Nginx, tag, out _));
        Assert.False(Tags.Delete(registry, Nginx, tag));
        Assert.Throws<ArgumentException>(() => Tags.Upsert(registry, Nginx, tag, record));
    }

    [Fact]
    public void Longest_names_the_grammars_allow_are_stored()
    {
        var registry = new string('r', 250) + ":5000";
        var repository = RepositoryName.Parse(new string('a', RepositoryName.MaxLength));
        var tag = new string('t', Tag.MaxLength);
        var record = new TagRecord(TestDigests.Of(1), MediaTypes.OciIndex, 1, T0);

        Tags.Upsert(registry, repository, tag, record);

        Assert.True(Tags.TryGet(registry, repository, tag, out var stored));
        Assert.Equal(record, stored);
        var entry = Assert.Single(Tags.Entries());
        Assert.Equal((registry, repository, tag), (entry.Registry, entry.Repository, entry.Tag));
    }

    [Fact]
    public void Entries_list_each_live_tag_with_its_name()
    {
        Tags.Upsert("docker.io", Nginx, "latest", new TagRecord(TestDigests.Of(1), MediaTypes.OciIndex, 1, T0));
        Tags.Upsert("docker.io", Nginx, "stable", new TagRecord(TestDigests.Of(2), MediaTypes.OciIndex, 2, T0));
        Tags.Upsert("quay.io:443", RepositoryName.Parse("coreos/etcd"), "v3.5.0", new TagRecord(TestDigests.Of(3), MediaTypes.DockerManifest, 3, T0));
        Tags.Upsert("docker.io", Nginx, "latest", new TagRecord(TestDigests.Of(4), MediaTypes.OciIndex, 4, T0));
        Tags.Delete("docker.io", Nginx, "stable");

        var entries = Tags.Entries().OrderBy(e => e.Record.Size).ToList();

        Assert.Equal(2, entries.Count);
        Assert.Equal(new TagEntry("quay.io:443", RepositoryName.Parse("coreos/etcd"), "v3.5.0", new TagRecord(TestDigests.Of(3), MediaTypes.DockerManifest, 3, T0)), entries[0]);
        Assert.Equal(new TagEntry("docker.io", Nginx, "latest", new TagRecord(TestDigests.Of(4), MediaTypes.OciIndex, 4, T0)), entries[1]);
    }
}
