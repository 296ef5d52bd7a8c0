using System.Linq;
using System.Management.Automation;
using NenAi.PowerShell.Tests.Infrastructure;
using NenAi.TestSupport;
using Xunit;

namespace NenAi.PowerShell.Tests
{
    /// <summary>What binds to what, through PowerShell's own parameter binder.</summary>
    public class BindingTests : HostedTest
    {
        /// <summary>Starts <paramref name="count"/> echo runs and returns their message ids.</summary>
        private string[] StartRuns(int count, string workflow = "$echo") =>
            Run($"$rows | Start-NenRun -WorkflowId {workflow} -ExcludeProperty Id", ("rows", CsvRows.Numbered(count))).AssertClean()
                .Strings("MessageId").Select(s => s!).ToArray();

        [Fact]
        public void AWorkflowIdColumnRoutesEachRowToItsWorkflow()
        {
            PsResult r = Run("$rows | Start-NenRun", ("rows", CsvRows.Parse(
                $"WorkflowId,NAME\n{TestEmulator.EchoWorkflow},one\n{TestEmulator.SlowWorkflow},two\n{TestEmulator.EchoWorkflow},three"))).AssertClean();

            Assert.Equal(new[] { TestEmulator.EchoWorkflow, TestEmulator.SlowWorkflow, TestEmulator.EchoWorkflow }.OrderBy(w => w), r.Strings("WorkflowId").OrderBy(w => w));
            Assert.Equal(2, State.Ledger.Count(e => e.WorkflowId == TestEmulator.EchoWorkflow));
            Assert.Equal("two", (string)State.Ledger.Single(e => e.WorkflowId == TestEmulator.SlowWorkflow).Params["NAME"]!);
            // The routing column is not sent as a parameter.
            Assert.All(State.Ledger, e => Assert.False(e.Params.ContainsKey("WorkflowId")));
        }

        [Fact]
        public void RowsWithAMessageIdColumnBindToWaitNenRun()
        {
            string[] ids = StartRuns(3);
            var saved = CsvRows.Parse("MessageId,Note\n" + string.Join("\n", ids.Select(i => i + ",saved earlier")));

            PsResult r = Run("$saved | Wait-NenRun -PollIntervalSec 0.1 -TimeoutSec 60", ("saved", saved)).AssertClean();

            Assert.Equal(ids.OrderBy(i => i), r.Strings("MessageId").OrderBy(i => i));
            Assert.All(r.Output, s => Assert.Equal("success", PsResult.Prop(s, "Status")));
            Assert.All(r.Output, s => Assert.Equal("saved earlier", PsResult.Prop(s, "InputObject.Note")));
        }

        [Fact]
        public void RowsWithAMessageIdColumnBindToGetNenRunResult()
        {
            string[] ids = StartRuns(2, "$filesWf");
            Run("$ids | Wait-NenRun -PollIntervalSec 0.1 -TimeoutSec 60 | Out-Null", ("ids", ids)).AssertClean();
            var saved = CsvRows.Parse("MessageId\n" + string.Join("\n", ids));

            PsResult r = Run("$saved | Get-NenRunResult -Destination $TestDrive", ("saved", saved)).AssertClean();

            Assert.Equal(6, r.Output.Count);
            Assert.Equal(ids.OrderBy(i => i), r.Strings("MessageId").Distinct().OrderBy(i => i));
        }

        [Fact]
        public void StartNenRunOutputBindsToWaitNenRun()
        {
            PsResult r = Run("$rows | Start-NenRun -WorkflowId $echo -ExcludeProperty Id | Wait-NenRun -PollIntervalSec 0.1 -TimeoutSec 60",
                ("rows", CsvRows.Numbered(3))).AssertClean();

            Assert.Equal(State.Ledger.Select(e => e.MessageId).OrderBy(i => i), r.Strings("MessageId").OrderBy(i => i));
            Assert.All(r.Output, s => Assert.Equal("NenAi.Run", PSObject.AsPSObject(PsResult.Prop(s, "InputObject")!).TypeNames[0]));
        }

        [Fact]
        public void PlainStringsBindByValueToWaitAndGet()
        {
            string[] ids = StartRuns(2, "$filesWf");

            PsResult waited = Run("$ids | Wait-NenRun -PollIntervalSec 0.1 -TimeoutSec 60", ("ids", ids)).AssertClean();
            PsResult files = Run("$ids | Get-NenRunResult -Destination $TestDrive", ("ids", ids)).AssertClean();

            Assert.Equal(ids.OrderBy(i => i), waited.Strings("MessageId").OrderBy(i => i));
            Assert.Equal(ids.OrderBy(i => i), files.Strings("MessageId").Distinct().OrderBy(i => i));
        }

        [Fact]
        public void MessageIdsBindByNameByAliasAndByPosition()
        {
            string[] ids = StartRuns(3);

            PsResult byName = Run("Wait-NenRun -MessageId $ids -PollIntervalSec 0.1 -TimeoutSec 60", ("ids", ids)).AssertClean();
            PsResult byAlias = Run("Wait-NenRun -Id $ids[0] -PollIntervalSec 0.1 -TimeoutSec 60", ("ids", ids)).AssertClean();
            PsResult byPosition = Run("Wait-NenRun $runs -PollIntervalSec 0.1 -TimeoutSec 60", ("runs", Run("$ids | Wait-NenRun -PollIntervalSec 0.1", ("ids", ids)).Output.ToArray())).AssertClean();

            Assert.Equal(3, byName.Output.Count);
            Assert.Equal(ids[0], PsResult.Prop(Assert.Single(byAlias.Output), "MessageId"));
            Assert.Equal(ids.OrderBy(i => i), byPosition.Strings("MessageId").OrderBy(i => i));
        }

        [Fact]
        public void WaitOutputPipedToGetNenRunResultUsesTheStatusItWasHanded()
        {
            string[] ids = StartRuns(3, "$filesWf");
            PsResult waited = Run("$ids | Wait-NenRun -PollIntervalSec 0.1 -TimeoutSec 60", ("ids", ids)).AssertClean();
            int getsBefore = State.GetRuns;

            PsResult files = Run("$statuses | Get-NenRunResult -Destination $TestDrive", ("statuses", waited.Output.ToArray())).AssertClean();

            Assert.Equal(9, files.Output.Count);
            Assert.Equal(getsBefore, State.GetRuns); // no status lookup: the links came with the status
        }

        [Theory]
        [InlineData("Wait-NenRun -PollIntervalSec 0.1", "WaitNenRunCommand")]
        [InlineData("Get-NenRunResult -Destination $TestDrive", "GetNenRunResultCommand")]
        public void AnObjectWithoutAMessageIdIsRefusedWithoutARequestAndTheOthersGoOn(string command, string cmdlet)
        {
            string id = StartRuns(1, "$filesWf")[0];
            Run("$id | Wait-NenRun -PollIntervalSec 0.1 | Out-Null", ("id", id)).AssertClean();
            int getsBefore = State.GetRuns;

            PsResult r = Run("@([pscustomobject]@{ Name = 'not a run' }, $id) | " + command, ("id", id));

            ErrorRecord error = Assert.Single(r.Errors);
            Assert.Null(r.Terminating);
            Assert.Equal($"NenInvalidMessageId,NenAi.Commands.{cmdlet}", error.FullyQualifiedErrorId);
            Assert.Equal(ErrorCategory.InvalidArgument, error.CategoryInfo.Category);
            Assert.Equal("not a run", PsResult.Prop(error.TargetObject, "Name"));
            Assert.Contains("no MessageId", error.Exception.Message);
            Assert.NotEmpty(r.Output); // the real run after it was still processed
            Assert.True(State.GetRuns - getsBefore <= 1);
            Assert.Equal(State.GetRuns, State.GetsFor(id)); // every status query the server ever saw was for the real run
        }

        [Fact]
        public void StartNenRunRefusesAPlainStringAsARow()
        {
            PsResult r = Run("'just text' | Start-NenRun -WorkflowId $echo");

            ErrorRecord error = Assert.Single(r.Errors);
            Assert.Equal("NenInvalidParameterValue,NenAi.Commands.StartNenRunCommand", error.FullyQualifiedErrorId);
            Assert.Equal("just text", error.TargetObject is PSObject p ? p.BaseObject : error.TargetObject);
            Assert.Equal(0, State.PostRuns);
        }

        [Fact]
        public void HashtablesAndParameterValuesBecomeWorkflowParams()
        {
            Run("@{ NAME = 'from a hashtable'; COUNT = 2 } | Start-NenRun -WorkflowId $echo -Parameter @{ FLAG = $true }").AssertClean();

            var p = State.Ledger.Single().Params;
            Assert.Equal("from a hashtable", (string)p["NAME"]!);
            Assert.Equal(2, (int)p["COUNT"]!);
            Assert.True((bool)p["FLAG"]!);
        }

        [Fact]
        public void PropertySelectsAndRenamesColumnsAndExcludePropertyDropsThem()
        {
            var rows = CsvRows.Parse("Customer,Amount,Internal\nAda,5,x");

            Run("$rows | Start-NenRun -WorkflowId $echo -Property @{ Customer = 'NAME' }, @{ Amount = 'COUNT' }", ("rows", rows)).AssertClean();
            Run("$rows | Start-NenRun -WorkflowId $echo -ExcludeProperty Internal, Amount", ("rows", rows)).AssertClean();

            var selected = State.Ledger[0].Params;
            Assert.Equal(new[] { "COUNT", "NAME" }, selected.Select(p => p.Key).OrderBy(k => k));
            Assert.Equal("Ada", (string)selected["NAME"]!);
            Assert.Equal(new[] { "Customer" }, State.Ledger[1].Params.Select(p => p.Key));
        }
    }
}
