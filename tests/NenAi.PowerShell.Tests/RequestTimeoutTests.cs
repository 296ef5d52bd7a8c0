using System;
using System.Linq;
using NenAi.Emulator;
using NenAi.PowerShell.Tests.Infrastructure;
using Xunit;

namespace NenAi.PowerShell.Tests
{
    /// <summary>
    /// One vocabulary: -RequestTimeoutSec is the per-request limit on every networked cmdlet, so one hashtable of
    /// connection parameters splats onto all of them; -TimeoutSec is Wait-NenRun's whole-wait limit, and on Start-NenRun
    /// and Get-NenRunResult an old name that still works for this release, with a deprecation warning.
    /// </summary>
    public class RequestTimeoutTests : HostedTest
    {
        protected override bool SessionDefaults => false;

        [Fact]
        public void OneHashtableOfConnectionParametersSplatsOntoEveryNetworkedCmdlet()
        {
            PsResult r = Run(@"
                $nen = @{ BaseUri = $baseUri; ApiKey = $apiKey; SigningKey = $signingKey; RequestTimeoutSec = 30; MaximumRetryCount = 2; NoProgress = $true }
                $runs = $rows | Start-NenRun @nen -WorkflowId $filesWf
                $statuses = $runs | Wait-NenRun @nen -PollIntervalSec 0.1 -TimeoutSec 60
                $now = $runs | Get-NenRun @nen
                $files = $statuses | Get-NenRunResult @nen -Destination $TestDrive
                [pscustomobject]@{ Runs = @($runs).Count; Statuses = @($statuses).Count; Now = @($now).Count; Files = @($files).Count }",
                ("rows", CsvRows.Numbered(2)));

            Assert.True(r.Terminating is null && r.Errors.Count == 0 && r.Warning.Count == 0, r.Describe());
            var summary = Assert.Single(r.Output);
            Assert.Equal((2, 2, 2, 6), ((int)PsResult.Prop(summary, "Runs")!, (int)PsResult.Prop(summary, "Statuses")!, (int)PsResult.Prop(summary, "Now")!, (int)PsResult.Prop(summary, "Files")!));
        }

        [Theory]
        [InlineData("Start-NenRun", 100, "__AllParameterSets")]
        [InlineData("Wait-NenRun", 100, "__AllParameterSets")]
        [InlineData("Get-NenRun", 100, "ByInput,ById")]   // not -JournalPath: it sends nothing
        [InlineData("Get-NenRunResult", 300, "__AllParameterSets")]
        public void EveryNetworkedCmdletHasRequestTimeoutSecInEveryParameterSetThatSends(string cmdlet, int expectedDefault, string sets)
        {
            PsResult r = Run(@"
                $p = (Get-Command $name).Parameters['RequestTimeoutSec']
                $p.ParameterType.Name
                ($p.ParameterSets.Keys -join ',')
                (Get-Help $name -Parameter RequestTimeoutSec).defaultValue",
                ("name", cmdlet)).AssertClean();

            Assert.Equal(new object[] { "Int32", sets, expectedDefault.ToString() }, r.BaseOutput.Select(o => o.ToString()).ToArray());
        }

        [Fact]
        public void StartNenRunAppliesRequestTimeoutSecToEachRequest()
        {
            State.Faults.Script(new ScriptedFault { Kind = "latency-after-accept", Route = "POST /runs", Count = 1, LatencyMs = 5_000 });

            PsResult r = Run("$rows | Start-NenRun -BaseUri $baseUri -ApiKey $apiKey -WorkflowId $echo -RequestTimeoutSec 1 -MaximumRetryCount 0", ("rows", CsvRows.Numbered(1)));

            var error = Assert.Single(r.Errors);
            Assert.Equal("NenOutcomeUnknown,NenAi.Commands.StartNenRunCommand", error.FullyQualifiedErrorId);
            Assert.Contains("after 1 s", error.Exception.Message);
            Assert.Empty(r.Warning);
        }

        [Fact]
        public void TheOldTimeoutSecOfStartNenRunStillWorksWithADeprecationWarning()
        {
            State.Faults.Script(new ScriptedFault { Kind = "latency-after-accept", Route = "POST /runs", Count = 1, LatencyMs = 5_000 });

            PsResult r = Run("$rows | Start-NenRun -BaseUri $baseUri -ApiKey $apiKey -WorkflowId $echo -TimeoutSec 1 -MaximumRetryCount 0", ("rows", CsvRows.Numbered(1)));

            Assert.Equal("NenOutcomeUnknown,NenAi.Commands.StartNenRunCommand", Assert.Single(r.Errors).FullyQualifiedErrorId);
            string warning = Assert.Single(r.Warning).Message;
            Assert.Contains("Start-NenRun: -TimeoutSec is deprecated", warning);
            Assert.Contains("use -RequestTimeoutSec", warning);
        }

        [Fact]
        public void RequestTimeoutSecWinsOverTheOldTimeoutSecAndTheWarningSaysSo()
        {
            State.Faults.Script(new ScriptedFault { Kind = "latency-after-accept", Route = "POST /runs", Count = 1, LatencyMs = 2_000 });

            PsResult r = Run("$rows | Start-NenRun -BaseUri $baseUri -ApiKey $apiKey -WorkflowId $echo -TimeoutSec 1 -RequestTimeoutSec 30", ("rows", CsvRows.Numbered(1)));

            Assert.True(r.Errors.Count == 0 && r.Output.Count == 1, r.Describe());
            Assert.Contains("-TimeoutSec is deprecated and was ignored, as -RequestTimeoutSec is given", Assert.Single(r.Warning).Message);
        }

        [Fact]
        public void GetNenRunResultsOldTimeoutSecWarnsAndWaitNenRunsTimeoutSecDoesNot()
        {
            PsResult r = Run(@"
                $c = @{ BaseUri = $baseUri; ApiKey = $apiKey }
                $rows | Start-NenRun @c -WorkflowId $filesWf | Wait-NenRun @c -PollIntervalSec 0.1 -TimeoutSec 60 | Get-NenRunResult @c -Destination $TestDrive -TimeoutSec 60 | Out-Null",
                ("rows", CsvRows.Numbered(1))).AssertClean();

            Assert.Equal("Get-NenRunResult: -TimeoutSec is deprecated", Assert.Single(r.Warning).Message.Substring(0, 43));
        }
    }
}
