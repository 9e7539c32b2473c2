using NodeCache.Testing;
using NodeCache.Testing.Prometheus;

namespace NodeCache.Agent.Tests.Charts;

/// <summary>
/// The chart's PrometheusRule, rendered by helm, checked by the real <c>promtool</c>, and each alert unit-tested with
/// <c>promtool test rules</c>: Charts/Alerts/&lt;alert&gt;.yaml feeds it series and names when it must fire and when not.
/// </summary>
public sealed class AlertRuleTests
{
    private static readonly string TestsFolder = Path.Combine(AppContext.BaseDirectory, "Charts", "Alerts");

    public static TheoryData<string> AlertTests => [.. AlertTestNames()];

    [Fact]
    public async Task The_rendered_rules_pass_promtool_check_rules()
    {
        using var folder = TempFolder.Create("rules");
        var rules = await WriteRenderedRulesAsync(folder);

        var check = await Promtool.CheckRulesAsync(rules);

        Assert.True(check.Succeeded, check.Stdout + check.Stderr);
        Assert.Contains($"SUCCESS: {AlertNames(await RenderAsync()).Count()} rules found", check.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Every_alert_of_the_chart_has_a_unit_test_and_every_unit_test_an_alert()
    {
        var rendered = await RenderAsync();

        var alerts = AlertNames(rendered).Order(StringComparer.Ordinal);

        Assert.Equal(alerts, AlertTestNames());
    }

    [Theory]
    [MemberData(nameof(AlertTests))]
    public async Task The_alert_fires_on_series_that_should_fire_it_and_stays_silent_otherwise(string alert)
    {
        using var folder = TempFolder.Create("alert");
        await WriteRenderedRulesAsync(folder);
        var test = folder.Combine($"{alert}.yaml");
        File.Copy(Path.Combine(TestsFolder, $"{alert}.yaml"), test);

        // The file must hold both kinds of case for this alert, or passing proves half of it.
        var cases = YamlNode.Parse(File.ReadAllText(test)).Single()["tests"].Items
            .SelectMany(t => t["alert_rule_test"].Items)
            .Where(c => c["alertname"].Text == alert)
            .ToList();
        Assert.Contains(cases, c => c["exp_alerts"].Items.Count > 0);
        Assert.Contains(cases, c => c["exp_alerts"].Items.Count == 0);
        Assert.All(cases.Where(c => c["exp_alerts"].Items.Count > 0).SelectMany(c => c["exp_alerts"].Items),
            expected => Assert.True(expected["exp_annotations"].Has("summary"), $"{alert}: a firing case checks the summary the on-call reads"));

        var run = await Promtool.TestRulesAsync(test);

        Assert.True(run.Succeeded, run.Stdout + run.Stderr);
    }

    private static IEnumerable<string> AlertTestNames() =>
        Directory.EnumerateFiles(TestsFolder, "*.yaml").Select(path => Path.GetFileNameWithoutExtension(path)!).Order(StringComparer.Ordinal);

    private static Task<RenderedChart> RenderAsync() => RenderedChart.RenderAsync(null, "metrics.prometheusRule.enabled=true");

    private static IEnumerable<string> AlertNames(RenderedChart rendered) =>
        rendered.OfKind("PrometheusRule")["spec"]["groups"].Items
            .SelectMany(g => g["rules"].Items)
            .Where(r => r.Has("alert"))
            .Select(r => r["alert"].Text);

    /// <summary>The PrometheusRule's spec (its groups) as a rule file, <c>rules.yaml</c>, which the unit tests name.</summary>
    private static async Task<string> WriteRenderedRulesAsync(TempFolder folder)
    {
        var rendered = await RenderAsync();
        var path = folder.Combine("rules.yaml");
        await File.WriteAllTextAsync(path, rendered.OfKind("PrometheusRule")["spec"].ToYaml());
        return path;
    }
}
