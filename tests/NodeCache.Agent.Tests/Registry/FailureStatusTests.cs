using NodeCache.Agent.Registry;
using NodeCache.Mirror;
using NodeCache.Oci;

namespace NodeCache.Agent.Tests.Registry;

public sealed class FailureStatusTests
{
    [Fact]
    public void Every_failure_is_answered_with_a_4xx_or_5xx_so_that_containerd_tries_its_next_host()
    {
        foreach (var failure in Enum.GetValues<MirrorFailure>())
        {
            Assert.InRange(FailureStatus.Of(new MirrorError(failure, OciErrorCode.Unknown, "failed")), 400, 599);
        }
    }

    [Theory]
    [InlineData(MirrorFailure.Invalid, 400)]
    [InlineData(MirrorFailure.Unauthorized, 401)]
    [InlineData(MirrorFailure.Denied, 403)]
    [InlineData(MirrorFailure.NotFound, 404)]
    [InlineData(MirrorFailure.Unsupported, 405)]
    [InlineData(MirrorFailure.DeniedByPolicy, 412)]
    [InlineData(MirrorFailure.TooManyRequests, 429)]
    [InlineData(MirrorFailure.Internal, 500)]
    [InlineData(MirrorFailure.BadUpstream, 502)]
    [InlineData(MirrorFailure.Unavailable, 503)]
    public void Each_failure_has_the_status_the_distribution_spec_gives_it(MirrorFailure failure, int status)
    {
        Assert.Equal(status, FailureStatus.Of(new MirrorError(failure, OciErrorCode.Unknown, "failed")));
    }

    [Theory]
    [InlineData(401)]
    [InlineData(403)]
    [InlineData(404)]
    [InlineData(409)]
    [InlineData(412)]
    [InlineData(451)]
    public void An_upstream_refusal_is_answered_with_the_upstreams_own_status(int upstream)
    {
        var error = MirrorError.FromUpstreamRefusal(upstream, OciErrorCode.Denied, "refused", null, null);

        Assert.Equal(upstream, FailureStatus.Of(error));
    }

    [Fact]
    public void A_refusal_without_a_client_error_status_is_a_bad_request()
    {
        Assert.Equal(400, FailureStatus.Of(new MirrorError(MirrorFailure.Rejected, OciErrorCode.Unknown, "refused", UpstreamStatus: 302)));
    }
}
