using System.Globalization;
using NodeCache.Mirror;
using NodeCache.Oci;

namespace NodeCache.Fill;

/// <summary>
/// The origins of one fill in the order they are tried, and where the fill stands among them. An origin that answers
/// without a body is passed over; one that breaks part way is left for the next, unless it is patient and has resumes
/// left (the upstream resumes a broken body with a Range). An origin for outages only is tried once the upstream could
/// not answer, and never changes what clients are told when it has nothing.
/// </summary>
internal sealed class OriginChain(IReadOnlyList<BlobOrigin> origins)
{
    private readonly List<BlobOrigin> _contributed = [];
    private int _index;
    private int _resumes;
    private bool _upstreamDown;

    /// <summary>The origin the fill reads from now, or tries next.</summary>
    public BlobOrigin Current => origins[Math.Min(_index, origins.Count - 1)];

    /// <summary>True when an origin other than the upstream sent some of the bytes.</summary>
    public bool PeersContributed => _contributed.Any(origin => !origin.Patient);

    /// <summary>Every origin that sent bytes, in order, for logs.</summary>
    public string Contributors => string.Join(", ", _contributed.Distinct().Select(origin => origin.Patient ? origin.Name : $"{origin.Kind} {origin.Name}"));

    /// <summary>
    /// Opens origins from the current one on until one answers with a body at <paramref name="offset"/> (announcing
    /// <paramref name="size"/> when it is known); the last answer without one when none does: the upstream's, which says
    /// what to tell clients.
    /// </summary>
    public async Task<OriginAnswer> OpenAsync(Digest digest, long offset, long? size, CancellationToken cancellationToken)
    {
        OriginAnswer? last = null;
        for (; _index < origins.Count; _index++, _resumes = 0)
        {
            var origin = origins[_index];
            if (origin.OnlyInOutage && !_upstreamDown)
            {
                continue;
            }
            OriginAnswer answer;
            try
            {
                answer = await origin.OpenAsync(digest, offset, size, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
            {
                answer = OriginAnswer.Missing(FallbackReason.Failed, ex.Message);
            }
            if (answer.Body is not null && (size is null || answer.Size == size))
            {
                last?.Dispose();
                return answer;
            }
            if (answer.Body is not null)
            {
                var announced = answer.Size?.ToString(CultureInfo.InvariantCulture) ?? "no";
                answer.Dispose();
                answer = OriginAnswer.Missing(FallbackReason.Failed, $"announced {announced} size for a blob of {size} bytes");
            }
            origin.Left(answer.Reason, answer.Detail ?? "no answer");
            _upstreamDown |= origin.Patient && answer.Error?.Failure == MirrorFailure.Unavailable;
            // The upstream's own answer says what to tell clients, not that of an agent tried after it that holds nothing.
            if (last?.Error is not null && answer.Error is null)
            {
                answer.Dispose();
                continue;
            }
            last?.Dispose();
            last = answer;
        }
        return last ?? OriginAnswer.Missing(FallbackReason.Failed, "no origin is left to try");
    }

    /// <summary>The current origin sent <paramref name="bytes"/> bytes.</summary>
    public void Received(long bytes)
    {
        var origin = Current;
        origin.Received(bytes);
        if (_contributed.Count == 0 || _contributed[^1] != origin)
        {
            _contributed.Add(origin);
        }
    }

    /// <summary>The current origin broke part way: the next open resumes it when it is patient and has resumes left, else tries the next.</summary>
    public void Leave(FallbackReason reason, string detail)
    {
        var origin = Current;
        origin.Left(reason, detail);
        if (origin.Patient && _resumes < origin.MaxResumes)
        {
            _resumes++;
            return;
        }
        // An upstream whose body broke off again and again is going down, as far as this fill can tell.
        _upstreamDown |= origin.Patient;
        _index++;
        _resumes = 0;
    }

    /// <summary>The blob did not hash to its digest: every origin that sent some of it is told.</summary>
    public void BlameContributors()
    {
        foreach (var origin in _contributed.Distinct())
        {
            origin.SentWrongBytes();
        }
    }
}
