using NodeCache.Core.Tests.Support;
using NodeCache.Mirror;
using NodeCache.Oci;
using NodeCache.Testing;

namespace NodeCache.Core.Tests.Mirror;

public sealed class ManifestVerdictsTests : IDisposable
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly string Key = ManifestVerdicts.Key("harbor.example", RepositoryName.Parse("team/app"), Digest.Compute("manifest"u8).ToString());
    private static readonly MirrorError PolicyError = new(MirrorFailure.DeniedByPolicy, OciErrorCode.Denied, "denied", 412,
        "{\"errors\":[{\"code\":\"PROJECTPOLICYVIOLATION\",\"message\":\"blocked\"}]}", "application/json; charset=utf-8");

    private readonly TempFolder _folder = TempFolder.Create("verdicts");

    private string FilePath => Path.Combine(_folder.Path, "denials.json");

    public void Dispose() => _folder.Dispose();

    [Fact]
    public void A_reference_is_allowed_within_the_window_after_the_upstream_allowed_it_and_not_after()
    {
        var verdicts = new ManifestVerdicts(null, new RecordingLogger());

        Assert.False(verdicts.IsAllowedWithin(Key, TimeSpan.FromMinutes(5), T0));
        verdicts.Allow(Key, T0);

        Assert.True(verdicts.IsAllowedWithin(Key, TimeSpan.FromMinutes(5), T0.AddMinutes(4)));
        Assert.False(verdicts.IsAllowedWithin(Key, TimeSpan.FromMinutes(5), T0.AddMinutes(5)));
        Assert.False(verdicts.IsAllowedWithin(Key, TimeSpan.Zero, T0));
        Assert.True(verdicts.IsAllowedWithin(Key, null, T0.AddDays(300)));
    }

    [Fact]
    public void A_denial_outlives_the_instance_and_is_answered_as_the_upstream_gave_it_until_allowed()
    {
        var first = new ManifestVerdicts(FilePath, new RecordingLogger());
        first.Allow(Key, T0);
        first.Deny(Key, PolicyError, T0.AddMinutes(1));

        var second = new ManifestVerdicts(FilePath, new RecordingLogger());

        Assert.False(second.IsAllowedWithin(Key, null, T0.AddMinutes(1)));
        Assert.True(second.TryGetDenial(Key, out var denial));
        Assert.Equal(PolicyError, denial.ToError());
        second.Defer(Key, T0.AddMinutes(2));
        Assert.False(second.IsAllowedWithin(Key, null, T0.AddMinutes(2)));

        second.Allow(Key, T0.AddMinutes(3));

        Assert.False(new ManifestVerdicts(FilePath, new RecordingLogger()).TryGetDenial(Key, out _));
    }

    [Fact]
    public void An_unreadable_denials_file_is_logged_and_every_manifest_is_asked_about_again()
    {
        File.WriteAllText(FilePath, "{ not json");
        var logger = new RecordingLogger();

        var verdicts = new ManifestVerdicts(FilePath, logger);

        Assert.False(verdicts.IsAllowedWithin(Key, TimeSpan.FromMinutes(5), T0));
        Assert.Contains(logger.Entries, e => e.Level == Microsoft.Extensions.Logging.LogLevel.Error && e.Message.Contains("denials", StringComparison.Ordinal));
    }
}
