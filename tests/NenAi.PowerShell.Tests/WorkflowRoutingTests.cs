using System.Linq;
using NenAi.PowerShell.Tests.Infrastructure;
using NenAi.TestSupport;
using Xunit;

namespace NenAi.PowerShell.Tests
{
    /// <summary>
    /// A WorkflowId column routes rows; with -WorkflowId given too, a row whose column names another workflow (or
    /// no GUID) is refused rather than sent to -WorkflowId's in silence (found by the acceptance run: all three went
    /// to the default workflow).
    /// </summary>
    public class WorkflowRoutingTests : HostedTest
    {
        [Fact]
        public void WithWorkflowIdGivenARowNamingAnotherWorkflowIsRefusedAndAnEmptyCellUsesTheCommandsOne()
        {
            var rows = CsvRows.Parse($"WorkflowId,NAME\nnot-a-guid,a\n{TestEmulator.SlowWorkflow},b\n,c\n{TestEmulator.EchoWorkflow},d");

            PsResult r = Run("$rows | Start-NenRun -WorkflowId $echo", ("rows", rows));

            Assert.Equal(new[] { "c", "d" }, r.Strings("InputObject.NAME").OrderBy(n => n));
            Assert.Equal(2, r.Errors.Count);
            Assert.All(r.Errors, e => Assert.Equal("NenInvalidWorkflowId,NenAi.Commands.StartNenRunCommand", e.FullyQualifiedErrorId));
            Assert.Equal(new[] { "Row 1: The row's WorkflowId column says 'not-a-guid'", $"Row 2: The row's WorkflowId column says '{TestEmulator.SlowWorkflow}'" },
                r.Errors.Select(e => e.Exception.Message.Substring(0, e.Exception.Message.IndexOf("' but") + 1)).OrderBy(m => m));
            Assert.All(State.Ledger, e => Assert.Equal(TestEmulator.EchoWorkflow, e.WorkflowId));
        }

        [Fact]
        public void WithoutWorkflowIdEachRowsColumnRoutesIt()
        {
            var rows = CsvRows.Parse($"WorkflowId,NAME\n{TestEmulator.SlowWorkflow},b\n{TestEmulator.EchoWorkflow},d");

            Run("$rows | Start-NenRun", ("rows", rows)).AssertClean();

            Assert.Equal(new[] { TestEmulator.EchoWorkflow, TestEmulator.SlowWorkflow }, State.Ledger.Select(e => e.WorkflowId).OrderBy(w => w));
        }

        [Fact]
        public void WithoutWorkflowIdAndWithoutAWorkflowIdColumnTheBatchEndsWithOneErrorNamingTheFirstRow()
        {
            // Acceptance: 50 rows gave 50 "The workflow id is empty." errors; no row of such input can ever be sent.
            PsResult r = Run("$rows | Start-NenRun -SummaryVariable s; 'not reached'", ("rows", CsvRows.Numbered(50)));

            var error = Assert.Single(r.AllErrors);
            Assert.Equal("NenInvalidWorkflowId,NenAi.Commands.StartNenRunCommand", r.Terminating?.FullyQualifiedErrorId);
            Assert.Equal(System.Management.Automation.ErrorCategory.InvalidArgument, error.CategoryInfo.Category);
            Assert.StartsWith("Row 1", error.Exception.Message);
            Assert.Contains("Give -WorkflowId, or add a WorkflowId column", error.Exception.Message);
            Assert.Empty(r.Output);
            Assert.Empty(State.Ledger);
        }

        [Fact]
        public void ALaterRowWithoutTheColumnAmongMixedShapesIsThatRowsOwnError()
        {
            // Objects of mixed shape: the first row routes itself, so the input does have workflows; the second is refused alone.
            PsResult r = Run("[pscustomobject]@{ WorkflowId = $echo; NAME = 'a' }, [pscustomobject]@{ NAME = 'b' }, [pscustomobject]@{ WorkflowId = $echo; NAME = 'c' } | Start-NenRun");

            Assert.Null(r.Terminating);
            var error = Assert.Single(r.Errors);
            Assert.Equal("NenInvalidWorkflowId,NenAi.Commands.StartNenRunCommand", error.FullyQualifiedErrorId);
            Assert.StartsWith("Row 2", error.Exception.Message);
            Assert.Equal(new[] { "a", "c" }, r.Strings("InputObject.NAME").OrderBy(n => n));
        }
    }
}
