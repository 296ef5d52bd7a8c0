using System.Linq;
using System.Management.Automation;
using NenAi.PowerShell.Tests.Infrastructure;
using Xunit;

namespace NenAi.PowerShell.Tests
{
    /// <summary>Progress is shown, bounded, and off on request.</summary>
    public class ProgressTests : HostedTest
    {
        private const string Batch = "$rows | Start-NenRun -WorkflowId $echo -ExcludeProperty Id -ThrottleLimit 16 {0} | Wait-NenRun -PollIntervalSec 0.2 -TimeoutSec 120 {0} | Get-NenRunResult -Destination $TestDrive {0}";

        [Fact]
        public void ABigBatchWritesABoundedNumberOfProgressRecords()
        {
            PsResult r = Run(string.Format(Batch, string.Empty), ("rows", CsvRows.Numbered(2000))).AssertClean();

            Assert.Equal(2000, r.Output.Count);
            // At most five updates a second per activity, plus one closing record each: never one per row.
            foreach (int activity in new[] { 1, 2, 3 })
            {
                var records = r.Progress.Where(p => p.ActivityId == activity).ToList();
                Assert.NotEmpty(records);
                Assert.InRange(records.Count, 1, (int)(r.Elapsed.TotalSeconds * 5) + 2);
                Assert.Equal(ProgressRecordType.Completed, records.Last().RecordType);
            }
        }

        [Fact]
        public void NoProgressWritesNone()
        {
            PsResult r = Run(string.Format(Batch, "-NoProgress"), ("rows", CsvRows.Numbered(300))).AssertClean();

            Assert.Equal(300, r.Output.Count);
            Assert.Empty(r.Progress);
        }

        [Fact]
        public void SilentProgressPreferenceWritesNone()
        {
            PsResult r = Run("$ProgressPreference = 'SilentlyContinue'; " + string.Format(Batch, string.Empty), ("rows", CsvRows.Numbered(300))).AssertClean();

            Assert.Equal(300, r.Output.Count);
            Assert.Empty(r.Progress);
        }

        [Theory]
        [InlineData("Start-NenRun")]
        [InlineData("Wait-NenRun")]
        [InlineData("Get-NenRunResult")]
        [InlineData("Get-NenRun")]
        public void EveryNetworkedCmdletThatCanRunLongTakesNoProgress(string cmdlet)
        {
            PsResult r = Run($"(Get-Command {cmdlet}).Parameters['NoProgress'].ParameterType.Name").AssertClean();

            Assert.Equal("SwitchParameter", Assert.Single(r.BaseOutput));
        }
    }
}
