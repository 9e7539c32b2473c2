using NodeCache.Fill;

namespace NodeCache.Core.Tests.Fill;

public sealed class TransferRatesTests
{
    [Fact]
    public void A_transfer_is_measured_against_the_median_of_the_others_never_against_itself()
    {
        var rates = new TransferRates();
        var (a, b, c, d) = (new object(), new object(), new object(), new object());

        Assert.Null(rates.Report(a, 100));
        Assert.Equal(100, rates.Report(b, 5));
        Assert.Equal(52.5, rates.Report(c, 400));
        // The second window of a transfer replaces its first: a is measured against b and c alone.
        Assert.Equal(202.5, rates.Report(a, 1));
        Assert.Equal(5, rates.Report(d, 50));
    }

    [Fact]
    public void A_transfer_that_ended_is_no_measure_for_the_others()
    {
        var rates = new TransferRates();
        var (ended, running) = (new object(), new object());
        rates.Report(ended, 1000);

        rates.Remove(ended);

        Assert.Null(rates.Report(running, 10));
    }
}
