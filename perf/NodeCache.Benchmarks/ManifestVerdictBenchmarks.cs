using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.Logging.Abstractions;
using NodeCache.Mirror;
using NodeCache.Oci;

namespace NodeCache.Benchmarks;

/// <summary>
/// The policy check a manifest hit by digest makes: the reference's verdict key built, then looked up among denials
/// and allowances (was it allowed within the revalidation window?). 1,000 digests allowed, as on a busy node.
/// </summary>
[MemoryDiagnoser]
public class ManifestVerdictBenchmarks
{
    private const int Digests = 1_000;
    private static readonly TimeSpan Window = TimeSpan.FromMinutes(5);

    private readonly RepositoryName _repository = RepositoryName.Parse("dockerhub-proxy/library/nginx");
    private readonly ManifestVerdicts _verdicts = new(path: null, NullLogger.Instance);
    private readonly DateTimeOffset _now = DateTimeOffset.UtcNow;
    private Digest[] _digests = null!;
    private int _next;

    [GlobalSetup]
    public void Allow()
    {
        _digests = BenchmarkDigests.Make(Digests, seed: 3);
        foreach (var digest in _digests)
        {
            _verdicts.Allow(ManifestVerdicts.Key("harbor.example", _repository, digest.ToString()), _now);
        }
    }

    [Benchmark]
    public bool Allowed_digest_check()
    {
        var digest = _digests[_next++ % Digests];
        return _verdicts.IsAllowedWithin(ManifestVerdicts.Key("harbor.example", _repository, digest.ToString()), Window, _now);
    }
}
