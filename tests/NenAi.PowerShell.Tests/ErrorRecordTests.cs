using System;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Threading.Tasks;
using NenAi.Emulator;
using NenAi.PowerShell.Tests.Infrastructure;
using NenAi.TestSupport;
using Xunit;

namespace NenAi.PowerShell.Tests
{
    /// <summary>Bad input: one ErrorRecord per bad row (stable id, right category, the row as target), and the batch goes on.</summary>
    public class ErrorRecordTests : HostedTest
    {
        private static string Names(PsResult r) => string.Join(",", r.Strings("InputObject.NAME").OrderBy(n => n));

        [Theory]
        [InlineData("WorkflowId,NAME\nnot-a-guid,bad", "", "NenInvalidWorkflowId", ErrorCategory.InvalidArgument)]
        [InlineData("WorkflowId,NAME\n99999999-9999-9999-9999-999999999999,bad", "", "NenWorkflowNotFound", ErrorCategory.ObjectNotFound)]
        [InlineData("NAME,COUNT\nbad,many", "-WorkflowId $echo", "NenInvalidWorkflowParams", ErrorCategory.InvalidData)]
        [InlineData("NAME,Other\nbad,x", "-WorkflowId $echo -Property NAME, COUNT", "NenMissingColumn", ErrorCategory.InvalidData)]
        [InlineData("NAME\nbad", "-WorkflowId $echo -KeyProperty JobId", "NenMissingColumn", ErrorCategory.InvalidData)]
        public void EachBadRowIsOneErrorRecordAndTheBatchGoesOn(string badRow, string arguments, string errorId, ErrorCategory category)
        {
            // The bad row sits between two good ones, with the same columns so every row binds alike.
            PSObject bad = CsvRows.Parse(badRow)[0];
            PSObject Good(string name)
            {
                PSObject row = CsvRows.Parse(badRow)[0];
                foreach (PSPropertyInfo p in row.Properties.ToList()) row.Properties[p.Name].Value = p.Name switch
                {
                    "NAME" => name,
                    "COUNT" => "1",
                    "WorkflowId" => TestEmulator.EchoWorkflow,
                    _ => p.Value,
                };
                if (arguments.Contains("KeyProperty")) row.Properties.Add(new PSNoteProperty("JobId", name));
                if (arguments.Contains("COUNT") && row.Properties["COUNT"] is null) row.Properties.Add(new PSNoteProperty("COUNT", "1"));
                return row;
            }

            PsResult r = Run($"$rows | Start-NenRun {arguments}", ("rows", new[] { Good("first"), bad, Good("last") }));

            ErrorRecord error = Assert.Single(r.Errors);
            Assert.Null(r.Terminating);
            Assert.Equal($"{errorId},NenAi.Commands.StartNenRunCommand", error.FullyQualifiedErrorId);
            Assert.Equal(category, error.CategoryInfo.Category);
            Assert.Same(bad, error.TargetObject);
            Assert.Equal("first,last", Names(r));
        }

        [Fact]
        public void ADuplicateRowKeyIsReportedAndOnlyTheFirstRowIsSent()
        {
            PsResult r = Run("$rows | Start-NenRun -WorkflowId $echo -KeyProperty Id -ExcludeProperty Id",
                ("rows", CsvRows.Parse("Id,NAME\n1,first\n1,again\n2,second")));

            ErrorRecord error = Assert.Single(r.Errors);
            Assert.Equal("NenDuplicateRowKey,NenAi.Commands.StartNenRunCommand", error.FullyQualifiedErrorId);
            Assert.Equal(ErrorCategory.InvalidData, error.CategoryInfo.Category);
            Assert.Equal("again", PsResult.Prop(error.TargetObject, "NAME"));
            Assert.Equal("first,second", Names(r));
            Assert.Equal(2, State.Ledger.Count);
        }

        [Fact]
        public void TheServersValidationMessageNamesTheField()
        {
            PsResult r = Run("$rows | Start-NenRun -WorkflowId $echo", ("rows", CsvRows.Parse("NAME,COUNT\nx,many")));

            ErrorRecord error = Assert.Single(r.Errors);
            Assert.Contains("COUNT", error.Exception.Message);
            Assert.Contains("integer", error.Exception.Message);
        }

        [Fact]
        public void WithErrorActionStopTheFirstBadRowStopsTheCommandAndNoRequestIsLeftRunning()
        {
            // Every run is recorded by the server and answered only after 2 s, so the bad row arrives while they are on the wire.
            State.Faults.Script(new ScriptedFault { Kind = "latency-after-accept", Route = "POST /runs", Count = 1000, LatencyMs = 2_000 });
            string journal = Path.Combine(TestDrive, "stop.jsonl");
            var rows = CsvRows.Parse($"Id,WorkflowId,NAME\n1,{TestEmulator.EchoWorkflow},a\n2,{TestEmulator.EchoWorkflow},b\n3,not-a-guid,bad\n4,{TestEmulator.EchoWorkflow},c\n5,{TestEmulator.EchoWorkflow},d");

            // The bad row enters only once the two rows before it are on the wire.
            Func<bool> onTheWire = () => Eventually.True(() => State.RequestsInFlight >= 2, TimeSpan.FromSeconds(30));
            PsResult r = Run("$rows | ForEach-Object { if ($_.NAME -eq 'bad') { $null = $onTheWire.Invoke() }; $_ } | Start-NenRun -KeyProperty Id -ExcludeProperty Id -JournalPath $journal -ErrorAction Stop; 'not reached'",
                ("rows", rows), ("journal", journal), ("onTheWire", onTheWire));

            Assert.NotNull(r.Terminating);
            Assert.Empty(r.Errors);
            Assert.Equal("NenInvalidWorkflowId,NenAi.Commands.StartNenRunCommand", r.Terminating!.FullyQualifiedErrorId);
            Assert.Equal("bad", PsResult.Prop(r.Terminating.TargetObject, "NAME"));
            Assert.DoesNotContain(r.BaseOutput, o => "not reached".Equals(o));
            // Rows after the bad one were never sent, and nothing is still on the wire.
            Assert.DoesNotContain(State.Ledger, e => (string)e.Params["NAME"]! is "c" or "d");
            Assert.True(Eventually.True(() => State.RequestsInFlight == 0, TimeSpan.FromSeconds(5)), "a request was left running");
            Assert.Equal(new[] { "a", "b" }, State.Ledger.Select(e => (string)e.Params["NAME"]!).OrderBy(n => n)); // they were on the wire
            // The requests on the wire finished before the command stopped, and their runs were written.
            Assert.Equal(new[] { "a", "b" }, r.Output.Select(o => (string)PsResult.Prop(o, "InputObject.NAME")!).OrderBy(n => n));
            // The journal is closed and records how every sent row ended (none is left "Submitting").
            using (File.Open(journal, FileMode.Open, FileAccess.ReadWrite, FileShare.None)) { }
            Assert.Equal(new[] { "Accepted", "Accepted" }, JournalFile.LastStates(journal).Values);
        }

        [Fact]
        public void WithErrorActionStopAndNoJournalEveryRunTheServerStartedIsWrittenBeforeTheCommandStops()
        {
            // Found in review: outcomes already back but not yet written were dropped when the error stopped the
            // command, so without a journal 11 of 16 started runs were recorded nowhere.
            var rows = CsvRows.Parse("NAME,COUNT\n" + string.Join("\n", Enumerable.Range(1, 40).Select(i => $"row {i},{(i == 3 ? "many" : i.ToString())}")));

            PsResult r = Run("$written = [System.Collections.Generic.List[object]]::new(); try { $rows | Start-NenRun -WorkflowId $echo -ThrottleLimit 8 -ErrorAction Stop | ForEach-Object { $written.Add($_) } } catch { $caught = $_ }; $written; $caught",
                ("rows", rows));

            var caught = Assert.Single(r.Output, o => o.BaseObject is ErrorRecord).BaseObject as ErrorRecord;
            Assert.Equal("NenInvalidWorkflowParams,NenAi.Commands.StartNenRunCommand", caught!.FullyQualifiedErrorId);
            Assert.Equal("row 3", PsResult.Prop(caught.TargetObject, "NAME"));
            var written = r.Output.Where(o => o.BaseObject is not ErrorRecord).Select(o => (string)PsResult.Prop(o, "MessageId")!).ToList();
            Assert.NotEmpty(State.Ledger);
            Assert.Equal(State.Ledger.Select(e => e.MessageId).OrderBy(i => i), written.OrderBy(i => i)); // every started run, once
            Assert.True(Eventually.True(() => State.RequestsInFlight == 0, TimeSpan.FromSeconds(5)), "a request was left running");
            // A script assigning the output ($runs = ...) loses it with the error: the warning names them (acceptance D11).
            string warning = Assert.Single(r.Warning, w => w.Message.StartsWith("Stopping at an error")).Message;
            Assert.All(State.Ledger.Take(20), e => Assert.Contains(e.MessageId, warning));
        }

        [Fact]
        public void WithErrorActionStopARowOnTheWireWhoseOutcomeIsUnknownIsAWarningWithItsIdempotencyKey()
        {
            // Found in review: rows whose outcome became unknown while the command stopped were dropped silently,
            // though the server had started their runs. Only one error can be written, so each is a warning.
            State.Faults.Script(new ScriptedFault { Kind = "latency-after-accept", Route = "POST /runs", Count = 1000, LatencyMs = 4_000 });
            var rows = CsvRows.Parse($"WorkflowId,NAME\n{TestEmulator.EchoWorkflow},a\n{TestEmulator.EchoWorkflow},b\nnot-a-guid,bad\n{TestEmulator.EchoWorkflow},c");
            Func<bool> onTheWire = () => Eventually.True(() => State.RequestsInFlight >= 2, TimeSpan.FromSeconds(30));

            PsResult r = Run("$rows | ForEach-Object { if ($_.NAME -eq 'bad') { $null = $onTheWire.Invoke() }; $_ } | Start-NenRun -RequestTimeoutSec 1 -MaximumRetryCount 0 -ErrorAction Stop",
                ("rows", rows), ("onTheWire", onTheWire));

            Assert.Equal("NenInvalidWorkflowId,NenAi.Commands.StartNenRunCommand", r.Terminating?.FullyQualifiedErrorId);
            Assert.Empty(r.Output);
            Assert.Equal(new[] { "a", "b" }, State.Ledger.Select(e => (string)e.Params["NAME"]!).OrderBy(n => n));
            Assert.True(r.Warning.Count == 2, r.Describe());
            Assert.All(r.Warning, w => Assert.Contains("may have reached the server", w.Message));
            Assert.Equal(2, r.Warning.Select(w => System.Text.RegularExpressions.Regex.Match(w.Message, "Idempotency-Key: (\\S+)\\.").Groups[1].Value).Where(k => k.Length > 0).Distinct().Count());
            Assert.True(Eventually.True(() => State.RequestsInFlight == 0, TimeSpan.FromSeconds(10)), "a request was left running");
        }

        public static TheoryData<string, string, ErrorCategory> ConfigurationErrors() => new()
        {
            { "$rows | Start-NenRun -WorkflowId $echo -BaseUri 'ftp://example.com'", "NenInvalidBaseUri,NenAi.Commands.StartNenRunCommand", ErrorCategory.InvalidArgument },
            { "$ids | Wait-NenRun -BaseUri 'not a url'", "NenInvalidBaseUri,NenAi.Commands.WaitNenRunCommand", ErrorCategory.InvalidArgument },
            { "$ids | Get-NenRunResult -BaseUri 'http://nen.example.com'", "NenInsecureBaseUri,NenAi.Commands.GetNenRunResultCommand", ErrorCategory.SecurityError },
            { "$rows | Start-NenRun -WorkflowId $echo -ApiKey 'plain text key'", "ParameterArgumentTransformationError,NenAi.Commands.StartNenRunCommand", ErrorCategory.InvalidData },
            { "$ids | Wait-NenRun -SigningKey 'plain text key'", "ParameterArgumentTransformationError,NenAi.Commands.WaitNenRunCommand", ErrorCategory.InvalidData },
            { "$rows | Start-NenRun -WorkflowId $secureWf -SecureParameter @{ password = 'plain text' }", "NenInvalidSecureParameter,NenAi.Commands.StartNenRunCommand", ErrorCategory.InvalidArgument },
        };

        [Theory]
        [MemberData(nameof(ConfigurationErrors))]
        public void AConfigurationErrorIsOneTerminatingErrorBeforeAnyRequest(string script, string errorId, ErrorCategory category)
        {
            PsResult r = Run(script + "; 'not reached'",
                ("rows", CsvRows.Numbered(3)), ("ids", new[] { Guid.NewGuid().ToString(), Guid.NewGuid().ToString() }),
                ("unsignedKey", PsSession.Secure(TestEmulator.UnsignedApiKey)));

            Assert.NotNull(r.Terminating);
            Assert.Empty(r.Errors);
            Assert.Equal(errorId, r.Terminating!.FullyQualifiedErrorId);
            Assert.Equal(category, r.Terminating.CategoryInfo.Category);
            Assert.Equal(0, State.PostRuns + State.GetRuns + State.Downloads);
        }
    }

    /// <summary>Configuration that comes from NEN_* variables (process-wide, so these run alone).</summary>
    [Collection(ProcessEnvironment.Name)]
    public class MissingConfigurationTests : HostedTest
    {
        protected override bool SessionDefaults => false;

        [Theory]
        [InlineData("$rows | Start-NenRun -WorkflowId $echo -BaseUri $baseUri", "StartNenRunCommand")]
        [InlineData("$ids | Wait-NenRun -BaseUri $baseUri", "WaitNenRunCommand")]
        [InlineData("$ids | Get-NenRunResult -BaseUri $baseUri -Destination $TestDrive", "GetNenRunResultCommand")]
        public void NoApiKeyIsOneTerminatingErrorBeforeAnyRequest(string script, string cmdlet)
        {
            using IDisposable env = ProcessEnvironment.Scope();

            PsResult r = Run(script, ("rows", CsvRows.Numbered(3)), ("ids", new[] { Guid.NewGuid().ToString(), Guid.NewGuid().ToString() }));

            Assert.Empty(r.Errors);
            Assert.Equal($"NenMissingApiKey,NenAi.Commands.{cmdlet}", r.Terminating?.FullyQualifiedErrorId);
            Assert.Equal(ErrorCategory.InvalidArgument, r.Terminating!.CategoryInfo.Category);
            Assert.Contains("NEN_API_KEY", r.Terminating.Exception.Message);
            Assert.Equal(0, State.PostRuns + State.GetRuns);
        }

        [Fact]
        public void SecureParametersWithoutASigningKeyAreOneTerminatingErrorBeforeAnyRequest()
        {
            using IDisposable env = ProcessEnvironment.Scope();

            PsResult r = Run("$rows | Start-NenRun -BaseUri $baseUri -WorkflowId $secureWf -ApiKey $unsignedKey -SecureParameter @{ password = $apiKey }",
                ("rows", CsvRows.Numbered(3)), ("unsignedKey", PsSession.Secure(TestEmulator.UnsignedApiKey)));

            Assert.Empty(r.Errors);
            Assert.Equal("NenSigningKeyRequired,NenAi.Commands.StartNenRunCommand", r.Terminating?.FullyQualifiedErrorId);
            Assert.Equal(ErrorCategory.SecurityError, r.Terminating!.CategoryInfo.Category);
            Assert.Null(r.Terminating.TargetObject);
            Assert.Equal(0, State.PostRuns);
        }

        [Fact]
        public void TheEnvironmentSuppliesWhatTheParametersDoNot()
        {
            using IDisposable env = ProcessEnvironment.Scope(("NEN_BASE_URL", Emulator.BaseUri.ToString()), ("NEN_API_KEY", TestEmulator.ApiKey), ("NEN_SIGNING_KEY", TestEmulator.SigningKey));

            PsResult r = Run("$rows | Start-NenRun -WorkflowId $secureWf -SecureParameter @{ password = $signingKey } | Wait-NenRun -PollIntervalSec 0.1 -TimeoutSec 30",
                ("rows", CsvRows.Parse("USER\nada"))).AssertClean();

            Assert.Equal("success", PsResult.Prop(Assert.Single(r.Output), "Status"));
        }
    }
}
