using System;
using System.Collections;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using System.Threading.Tasks;
using NenAi.Emulator;
using NenAi.PowerShell.Tests.Infrastructure;
using NenAi.TestSupport;
using Xunit;
using Xunit.Abstractions;

namespace NenAi.PowerShell.Tests
{
    /// <summary>
    /// Receive-NenWebhook in the engine: a 200-run batch through duplicated and lost webhooks, forged, huge and
    /// stalled requests, Ctrl+C, deadlines, restarts with a state file, its errors and its progress.
    /// </summary>
    public class ReceiveWebhookTests : HostedTest
    {
        private static readonly TimeSpan Generous = TimeSpan.FromSeconds(60);
        private readonly ITestOutputHelper _output;
        private readonly string _url = WebhookTraffic.Prefix(WebhookTraffic.FreePort());

        public ReceiveWebhookTests(ITestOutputHelper output) => _output = output;

        protected override void Configure(EmulatorConfig config)
        {
            WorkflowConfig echo = config.Workflows.Single(w => w.Id == TestEmulator.EchoWorkflow);
            echo.Files.Add(new FileSpec { Name = "report.txt", Content = "report for {message_id}", ContentType = "text/plain" });
            config.Webhooks.BackoffMilliseconds = 100;
        }

        private PsResult Receive(string script, params (string Name, object? Value)[] variables) =>
            Run(script, variables.Concat(new (string, object?)[] { ("url", _url), ("hook", PsSession.Secure(TestEmulator.WebhookSecret)) }).ToArray());

        private RunningScript StartReceiving(string script, params (string Name, object? Value)[] variables) =>
            Ps.Start(script, variables.Concat(new (string, object?)[] { ("url", _url), ("hook", PsSession.Secure(TestEmulator.WebhookSecret)) }).ToArray());

        /// <summary>Waits until the receiver answers on its prefix (an unsigned probe gets 401 once it listens).</summary>
        private void WaitUntilListening()
        {
            Assert.True(Eventually.True(() =>
            {
                try { return WebhookTraffic.PostAsync(_url, "{}", null).GetAwaiter().GetResult() == HttpStatusCode.Unauthorized; }
                catch (System.Net.Http.HttpRequestException) { return false; }
            }, Generous), "the receiver never listened");
        }

        private static List<PSObject> Items(object? variable) => ((IEnumerable)variable!).Cast<object>().Select(PSObject.AsPSObject).ToList();

        [Fact]
        public void TwoHundredRunsWriteTwoHundredFinalStatusesOnceEachThroughDuplicatedAndLostWebhooksAndEveryFileIsSaved()
        {
            State.WebhookFaults.Replace(new WebhookConfig { DuplicateRate = 0.2, DropRate = 0.1, Seed = 200, BackoffMilliseconds = 100 });
            string results = Path.Combine(TestDrive, "results");

            PsResult r = Receive(@"
                $rows | Start-NenRun -WorkflowId $echo -ExcludeProperty Id -WebhookCallback $url |
                    Receive-NenWebhook -Prefix $url -WebhookSecret $hook -FallbackAfterSec 5 -PollIntervalSec 0.5 -TimeoutSec 240 -OutVariable statuses -Verbose |
                    Get-NenRunResult -Destination $results",
                ("rows", CsvRows.Numbered(200)), ("results", results)).AssertClean();

            List<PSObject> statuses = Items(Ps.Get("statuses"));
            var ids = State.Ledger.Select(e => e.MessageId).ToHashSet();
            Assert.Equal(200, ids.Count);
            Assert.Equal(200, statuses.Count);
            Assert.All(statuses, s => Assert.Equal("NenAi.RunStatus", s.TypeNames[0]));
            Assert.Equal(ids.OrderBy(x => x), statuses.Select(s => (string)PsResult.Prop(s, "MessageId")!).OrderBy(x => x));
            Assert.All(statuses, s => Assert.Equal("success", PsResult.Prop(s, "Status")));
            Assert.All(statuses, s => Assert.Equal("NenAi.Run", PSObject.AsPSObject(PsResult.Prop(s, "InputObject")!).TypeNames[0]));
            // Every run's files are saved: assets.zip and report.txt.
            Assert.Equal(400, r.Output.Count);
            Assert.All(ids, id =>
            {
                Assert.True(File.Exists(Path.Combine(results, id, "assets.zip")), $"{id}: assets.zip");
                Assert.Equal("report for " + id, File.ReadAllText(Path.Combine(results, id, "report.txt")));
            });

            // The faults happened, and the lost final webhooks were made good by polling (the others needed no query).
            var deliveries = State.Deliveries;
            var lostFinal = deliveries.Where(d => d.Failure == "dropped" && d.Status == "success").Select(d => d.MessageId).ToHashSet();
            int duplicatedUpdates = deliveries.Where(d => d.Copy == 2).Select(d => (d.MessageId, d.Status)).Distinct().Count();
            Assert.NotEmpty(lostFinal);
            Assert.True(duplicatedUpdates > 20, $"only {duplicatedUpdates} updates were duplicated");
            Assert.All(lostFinal, id => Assert.True(State.GetsFor(id) >= 1, $"{id} lost its final webhook and was never polled"));
            string summary = Assert.Single(r.Verbose, v => v.Message.StartsWith("Receive-NenWebhook: ")).Message;
            int byPolling = Number(summary, @"(\d+) run\(s\) completed by polling");
            int duplicates = Number(summary, @"(\d+) duplicate\(s\)");
            Assert.True(byPolling >= lostFinal.Count, summary);
            Assert.True(duplicates > 0, summary);
            Assert.Contains(r.Warning, w => w.Message.StartsWith("No final webhook for") && lostFinal.Any(id => w.Message.Contains(id)));
            Assert.True(WebhookTraffic.CanListen(_url), "the port was not free when the command had ended");

            _output.WriteLine($"200 runs in {r.Elapsed.TotalSeconds:0.0} s (start, receive and download): " +
                $"{deliveries.Count(d => d.Attempt > 0)} webhook deliveries ({deliveries.Count(d => d.Attempt > 0 && d.HttpStatus == 200)} answered 200), " +
                $"{duplicatedUpdates} updates duplicated, {deliveries.Count(d => d.Failure == "dropped")} updates dropped ({lostFinal.Count} final); " +
                $"receiver: {duplicates} duplicates dropped, {byPolling} runs completed by polling; {State.GetRuns} status queries.");
            _output.WriteLine(summary);
        }

        private static int Number(string text, string pattern)
        {
            Match m = Regex.Match(text, pattern);
            Assert.True(m.Success, $"'{pattern}' not in: {text}");
            return int.Parse(m.Groups[1].Value);
        }

        [Fact]
        public void AWebhookThatArrivesBeforeItsRunIsPipedInIsKeptForIt()
        {
            // The upstream command holds each run until its final webhook has been answered: the receiver must
            // already be listening (it starts before any input) and must keep the update until the run arrives.
            Func<string, bool> delivered = id => Eventually.True(() => State.Deliveries.Any(d => d.MessageId == id && d.Status == "success" && d.HttpStatus == 200), Generous);

            PsResult r = Receive(@"
                $rows | Start-NenRun -WorkflowId $echo -WebhookCallback $url |
                    ForEach-Object { if (-not $delivered.Invoke($_.MessageId)) { throw 'not delivered' }; $_ } |
                    Receive-NenWebhook -Prefix $url -WebhookSecret $hook -FallbackAfterSec 60 -TimeoutSec 60",
                ("rows", CsvRows.Parse("NAME\nearly one\nearly two")), ("delivered", delivered)).AssertClean();

            Assert.Equal(2, r.Output.Count);
            Assert.All(r.Output, o => Assert.Equal("success", PsResult.Prop(o, "Status")));
            Assert.Equal(0, State.GetRuns); // nothing had to be polled
        }

        [Fact]
        public async Task ForgedHugeAndStalledRequestsWriteNothingAndHoldUpNoDeliveryAndCtrlCFreesThePortAtOnce()
        {
            using RunningScript running = StartReceiving("Receive-NenWebhook -Prefix $url -WebhookSecret $hook -IncludeProcessing -Verbose");
            WaitUntilListening();
            int port = new Uri(_url).Port;
            string body = WebhookTraffic.Body("real-run", "success");

            // Forged: unsigned, another secret, a tampered body.
            Assert.Equal(HttpStatusCode.Unauthorized, await WebhookTraffic.PostAsync(_url, WebhookTraffic.Body("forged", "success"), null));
            Assert.Equal(HttpStatusCode.Unauthorized, await WebhookTraffic.PostSignedAsync(_url, "whsec-attacker", "forged", "success"));
            Assert.Equal(HttpStatusCode.Unauthorized, await WebhookTraffic.PostAsync(_url, body.Replace("real-run", "forged"), WebhookTraffic.Sign(TestEmulator.WebhookSecret, body)));
            // 10 MB: refused from its declared length, before its body arrives.
            using (TcpClient huge = await WebhookTraffic.SendPartialAsync(port, WebhookTraffic.PostHead(port, 10L * 1024 * 1024), 64 * 1024))
                Assert.StartsWith("HTTP/1.1 413", await WebhookTraffic.ReadStatusLineAsync(huge, Generous));
            // A client that sends its headers and stalls does not hold up the real delivery.
            using TcpClient stalled = await WebhookTraffic.SendPartialAsync(port, WebhookTraffic.PostHead(port, 500) + "{\"message_id\":");
            var clock = System.Diagnostics.Stopwatch.StartNew();
            Assert.Equal(HttpStatusCode.OK, await WebhookTraffic.PostAsync(_url, body, WebhookTraffic.Sign(TestEmulator.WebhookSecret, body)));
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1), $"the delivery beside a stalled client took {clock.Elapsed}");
            Assert.True(running.WaitForOutput(1, Generous));
            Assert.False(WebhookTraffic.CanListen(_url));

            TimeSpan took = running.Stop();
            bool freeAtOnce = WebhookTraffic.CanListen(_url);

            Assert.True(took < TimeSpan.FromSeconds(2), $"Stop() took {took}");
            Assert.True(freeAtOnce, "the port was still taken after Ctrl+C");
            PsResult r = running.Wait(Generous);
            Assert.True(r.Stopped);
            PSObject update = Assert.Single(r.Output);
            Assert.Equal("real-run", PsResult.Prop(update, "MessageId"));
            Assert.Empty(r.Errors);
            Assert.Single(r.Warning, w => w.Message.Contains("refused (401)"));
            // The three forged posts, and the unsigned probe that found the receiver listening.
            Assert.Equal(4, r.Verbose.Count(v => v.Message.StartsWith("Refused a delivery") && v.Message.Contains("(401)")));
            Assert.Single(r.Verbose, v => v.Message.Contains("(413)"));
        }

        [Fact]
        public void TheCommandEndsByItselfWhenEveryRunHasFinishedAndTheSamePrefixCanBeTakenAgainAtOnce()
        {
            PsResult r = Receive(@"
                $rows | Start-NenRun -WorkflowId $echo -WebhookCallback $url | Receive-NenWebhook -Prefix $url -WebhookSecret $hook -FallbackAfterSec 30 -TimeoutSec 60
                $probe = [System.Net.HttpListener]::new(); $probe.Prefixes.Add($url); $probe.Start(); $probe.Close(); 'prefix free'
                Receive-NenWebhook -Prefix $url -WebhookSecret $hook -TimeoutSec 1
                Receive-NenWebhook -Prefix $url -WebhookSecret $hook -TimeoutSec 1
                'listened twice more'",
                ("rows", CsvRows.Parse("NAME\na\nb\nc"))).AssertClean();

            Assert.Equal(3, r.Output.Count(o => o.TypeNames[0] == "NenAi.RunStatus"));
            Assert.Equal(new[] { "prefix free", "listened twice more" }, r.BaseOutput.OfType<string>());
        }

        [Fact]
        public void ARunStillGoingAtTimeoutSecIsReportedAsWaitNenRunReportsItAndThePortIsFreed()
        {
            PsResult r = Receive(@"
                $rows | Start-NenRun -WorkflowId $slowWf -WebhookCallback $url |
                    Receive-NenWebhook -Prefix $url -WebhookSecret $hook -TimeoutSec 2 -FallbackAfterSec 30 -ErrorVariable late -ErrorAction SilentlyContinue
                $late | ForEach-Object { $_.FullyQualifiedErrorId; $_.CategoryInfo.Category.ToString(); $_.TargetObject.GetType().Name }
                $probe = [System.Net.HttpListener]::new(); $probe.Prefixes.Add($url); $probe.Start(); $probe.Close(); 'prefix free'",
                ("rows", CsvRows.Parse("NAME\nslow")));

            PSObject status = Assert.Single(r.Output, o => o.TypeNames[0] == "NenAi.RunStatus");
            Assert.Equal(true, PsResult.Prop(status, "TimedOut"));
            Assert.Equal("processing", PsResult.Prop(status, "Status")); // from the processing webhook: no query was needed
            Assert.Equal(new[] { "NenWaitTimeout,NenAi.Commands.ReceiveNenWebhookCommand", "OperationTimeout", "Run", "prefix free" }, r.BaseOutput.OfType<string>());
            Assert.Equal(0, State.GetRuns);
        }

        [Fact]
        public void ItsSummaryCountsEachRunUnderWhatIsKnownAndTheyAddUp()
        {
            // A run that timed out is not "finished", and a run the service said failed is a problem, as in Wait-NenRun's
            // summary (before, Finished counted every run reported, timed out or not, and HasProblems missed a failed run).
            string unknown = Guid.NewGuid().ToString();
            PsResult r = Receive(@"
                & { $rows | Start-NenRun -WorkflowId $echo -WebhookCallback $url; $unknown } |
                    Receive-NenWebhook -Prefix $url -WebhookSecret $hook -TimeoutSec 3 -FallbackAfterSec 60 -SummaryVariable s -ErrorAction SilentlyContinue | Out-Null
                'Runs', 'Finished', 'Failed', 'TimedOut', 'StatusUnknown', 'NotFollowed' | ForEach-Object { ""$_ $($s.Outcomes[$_])"" }
                ""HasProblems $($s.HasProblems)""",
                ("rows", CsvRows.Parse("NAME\nfine\nFAIL")), ("unknown", unknown));

            Assert.Equal(new[] { "Runs 3", "Finished 2", "Failed 1", "TimedOut 1", "StatusUnknown 0", "NotFollowed 0", "HasProblems True" }, r.BaseOutput.OfType<string>());
        }

        [Fact]
        public void ARestartedReceiverWithTheSameStateFileWritesNothingTwiceAndWaitsForNothingAlreadyDone()
        {
            string state = Path.Combine(TestDrive, "webhooks.jsonl");
            PsResult first = Receive(@"
                $ids = $rows | Start-NenRun -WorkflowId $echo -WebhookCallback $url | ForEach-Object MessageId
                $ids | Receive-NenWebhook -Prefix $url -WebhookSecret $hook -StatePath $state -FallbackAfterSec 2 -TimeoutSec 60",
                ("rows", CsvRows.Parse("NAME\na\nb")), ("state", state)).AssertClean();
            Assert.Equal(2, first.Output.Count);
            int gets = State.GetRuns;

            PsResult again = Receive("$ids | Receive-NenWebhook -Prefix $url -WebhookSecret $hook -StatePath $state -FallbackAfterSec 2 -Verbose").AssertClean();

            Assert.Empty(again.Output);
            Assert.Equal(2, again.Verbose.Count(v => v.Message.Contains("acted on already")));
            Assert.Equal(gets, State.GetRuns);
            // Each run's final update: recorded when answered 200, then written, once; nothing is left to write.
            string[] lines = File.ReadAllLines(state);
            Assert.Equal(2, lines.Count(l => l.Contains("\"received\":")));
            Assert.Equal(2, lines.Count(l => l.Contains("\"at\":")));
            Assert.Equal(4, lines.Length);
        }

        [Fact]
        public void ATimeoutPastWhatTheTimersTakeIsAParameterValidationErrorAsForWaitNenRun()
        {
            PsResult receive = Receive("Receive-NenWebhook -Prefix $url -WebhookSecret $hook -TimeoutSec 3000000");
            PsResult memory = Receive("Receive-NenWebhook -Prefix $url -WebhookSecret $hook -MaximumRequestMemory 1MB");
            // Each in its range, but not together: it was a raw ArgumentOutOfRangeException ('Parameter options').
            PsResult together = Receive("Receive-NenWebhook -Prefix $url -WebhookSecret $hook -MaximumRequestMemory 16MB -MaximumBodySize 16MB");

            Assert.Equal("ParameterArgumentValidationError,NenAi.Commands.ReceiveNenWebhookCommand", receive.Terminating?.FullyQualifiedErrorId);
            Assert.Contains("2147483", receive.Terminating!.Exception.Message);
            Assert.Equal("ParameterArgumentValidationError,NenAi.Commands.ReceiveNenWebhookCommand", memory.Terminating?.FullyQualifiedErrorId);
            Assert.Equal("ParameterArgumentValidationError,NenAi.Commands.ReceiveNenWebhookCommand", together.Terminating?.FullyQualifiedErrorId);
            Assert.Equal(ErrorCategory.InvalidArgument, together.Terminating!.CategoryInfo.Category);
            Assert.Contains("-MaximumBodySize 16777216", together.Terminating.Exception.Message);
            Assert.True(WebhookTraffic.CanListen(_url));
        }

        [Fact]
        public void ARefusedKeyIsOneWarningAndTheRunsNeitherPathFinishedAreOneErrorNamingThem()
        {
            string done = Guid.NewGuid().ToString(), quiet = Guid.NewGuid().ToString();
            using RunningScript receiving = StartReceiving(
                "Receive-NenWebhook -Prefix $url -MessageId $ids -WebhookSecret $hook -ApiKey $wrong -FallbackAfterSec 0.2 -PollIntervalSec 0.1 -TimeoutSec 3",
                ("ids", new[] { done, quiet }), ("wrong", PsSession.Secure("a-key-the-service-refuses")));
            Assert.True(Eventually.True(() => State.GetRuns >= 1, Generous), "no poll was refused");
            Assert.Equal(HttpStatusCode.OK, WebhookTraffic.PostSignedAsync(_url, TestEmulator.WebhookSecret, done, "success").GetAwaiter().GetResult());

            PsResult r = receiving.Wait(Generous);

            Assert.Equal(done, PsResult.Prop(Assert.Single(r.Output), "MessageId"));
            ErrorRecord error = Assert.Single(r.Errors);
            Assert.Equal("NenUnauthorized,NenAi.Commands.ReceiveNenWebhookCommand", error.FullyQualifiedErrorId);
            Assert.Equal(ErrorCategory.AuthenticationError, error.CategoryInfo.Category);
            Assert.Contains(quiet, error.Exception.Message);
            Assert.DoesNotContain(done, error.Exception.Message);
            Assert.Equal(new[] { quiet }, (string[])error.TargetObject);
            Assert.Single(r.Warning, w => w.Message.StartsWith("Polling stopped:"));
            Assert.DoesNotContain("a-key-the-service-refuses", r.AllText());
        }

        /// <summary>
        /// Acceptance (real pwsh, D2): with GET /runs/{id} answered by a captive portal's page or a 418 the receiver gave up
        /// its runs after a few seconds, one error each (StatusUnknown), and dropped the webhooks that came later. Polling
        /// is a safety net: one "Polling stopped" warning, the webhooks finish the runs, and the one run neither path
        /// finished is one error at the end naming it.
        /// </summary>
        [Theory]
        [InlineData(200, "text/html", "<html>login</html>", "NenUnexpectedResponse")]
        [InlineData(418, "text/plain", "I'm a teapot", "NenHttpError")]
        public void AnswersThatAreNotTheApisToItsPollsStopPollingAndTheWebhooksStillFinishTheRuns(int status, string contentType, string body, string errorId)
        {
            string[] ids = Enumerable.Range(0, 4).Select(_ => Guid.NewGuid().ToString()).ToArray();
            var fault = new ScriptedFault { Kind = "raw", Route = "GET /runs", Count = 1_000_000, StatusCode = status, Body = body };
            fault.Headers["Content-Type"] = contentType;
            State.Faults.Script(fault);
            using RunningScript receiving = StartReceiving(
                "Receive-NenWebhook -Prefix $url -MessageId $ids -WebhookSecret $hook -FallbackAfterSec 0.2 -PollIntervalSec 0.1 -TimeoutSec 20 -SummaryVariable s; $s",
                ("ids", ids));
            Assert.True(Eventually.True(() => State.GetRuns >= 5, Generous), "the runs were not polled");
            // After the polls: the webhooks of three runs come; the fourth never does.
            Assert.True(Eventually.True(() => receiving.Warnings.Any(w => w.Message.StartsWith("Polling stopped:")), Generous), "polling never stopped");
            foreach (string id in ids.Take(3))
                Assert.Equal(HttpStatusCode.OK, WebhookTraffic.PostSignedAsync(_url, TestEmulator.WebhookSecret, id, "success").GetAwaiter().GetResult());

            PsResult r = receiving.Wait(Generous);

            Assert.Equal(ids.Take(3).OrderBy(x => x), r.Output.Where(o => o.TypeNames[0] == "NenAi.RunStatus").Select(o => (string)PsResult.Prop(o, "MessageId")!).OrderBy(x => x));
            ErrorRecord error = Assert.Single(r.Errors);
            Assert.Equal(errorId + ",NenAi.Commands.ReceiveNenWebhookCommand", error.FullyQualifiedErrorId);
            Assert.Equal(new[] { ids[3] }, (string[])error.TargetObject);
            Assert.Contains("not as the Nen API answers", error.Exception.Message);
            Assert.Single(r.Warning, w => w.Message.StartsWith("Polling stopped: the status queries were answered, but not as the Nen API answers"));
            PSObject summary = r.Output[^1];
            var outcomes = (IDictionary)PsResult.Prop(summary, "Outcomes")!;
            Assert.Equal((4, 3, 1, 0, 0), ((int)outcomes["Runs"]!, (int)outcomes["Finished"]!, (int)outcomes["TimedOut"]!, (int)outcomes["StatusUnknown"]!, (int)outcomes["NotFollowed"]!));
        }

        [Fact]
        public void FiveFinalWebhooksAreFiveFinishedThreeOfThemFailedAndTheOutcomesAddUpToRuns()
        {
            // Finished is every run whose final status was written, succeeded or not; Failed is those of them the service
            // said failed (TIMEOUT and cancelled are failures too). Finished, TimedOut, StatusUnknown, NotFollowed and
            // WrittenBefore add up to Runs.
            string[] ids = Enumerable.Range(0, 5).Select(_ => Guid.NewGuid().ToString()).ToArray();
            string[] finals = { "TIMEOUT", "Completed", "cancelled", "success", "failed" };
            using RunningScript receiving = StartReceiving(
                "Receive-NenWebhook -Prefix $url -MessageId $ids -WebhookSecret $hook -FallbackAfterSec 60 -TimeoutSec 60 -SummaryVariable s | Out-Null; $s",
                ("ids", ids));
            WaitUntilListening();
            for (int i = 0; i < ids.Length; i++)
                Assert.Equal(HttpStatusCode.OK, WebhookTraffic.PostSignedAsync(_url, TestEmulator.WebhookSecret, ids[i], finals[i]).GetAwaiter().GetResult());

            PsResult r = receiving.Wait(Generous);

            var outcomes = (IDictionary)PsResult.Prop(Assert.Single(r.Output), "Outcomes")!;
            int Get(string name) => (int)outcomes[name]!;
            Assert.Equal((5, 5, 3), (Get("Runs"), Get("Finished"), Get("Failed")));
            Assert.Equal(Get("Runs"), Get("Finished") + Get("TimedOut") + Get("StatusUnknown") + Get("NotFollowed") + Get("WrittenBefore"));
            Assert.Empty(r.Errors); // a failed run is written with its status, as Wait-NenRun writes it
        }

        [Fact]
        public void TheOneErrorForTheRunsNeitherPathFinishedNamesTheirRows()
        {
            // Every row-level message names its row: the runs came from a CSV, and the error named only their message ids.
            PsResult r = Receive(@"
                $rows | Start-NenRun -WorkflowId $slowWf -KeyProperty JobId -ExcludeProperty JobId -WebhookCallback $url |
                    Receive-NenWebhook -Prefix $url -WebhookSecret $hook -ApiKey $wrong -FallbackAfterSec 0.2 -PollIntervalSec 0.1 -TimeoutSec 2 -ErrorVariable late -ErrorAction SilentlyContinue -WarningAction SilentlyContinue | Out-Null
                $late | ForEach-Object { $_.FullyQualifiedErrorId; $_.Exception.Message }",
                ("rows", CsvRows.Parse("JobId,NAME\nJ-1,a\nJ-2,b")), ("wrong", PsSession.Secure("a-key-the-service-refuses")));

            string[] lines = r.BaseOutput.OfType<string>().ToArray();
            Assert.Equal(2, lines.Length);
            Assert.Equal("NenUnauthorized,NenAi.Commands.ReceiveNenWebhookCommand", lines[0]);
            Assert.Contains("Row 1 (JobId J-1) (run ", lines[1]);
            Assert.Contains("Row 2 (JobId J-2) (run ", lines[1]);
        }

        [Fact]
        public void AFullBacklogAnswers503UntilTheNextCommandHasTakenWhatWaits()
        {
            string flag = Path.Combine(TestDrive, "go");
            // The next command holds each update until the flag exists: the first one is unwritten meanwhile.
            using RunningScript receiving = StartReceiving(
                "Receive-NenWebhook -Prefix $url -WebhookSecret $hook -MaximumBacklog 1 -TimeoutSec 10 | ForEach-Object { while (-not (Test-Path -LiteralPath $flag)) { Start-Sleep -Milliseconds 20 }; $_.MessageId }",
                ("flag", flag));
            WaitUntilListening();

            Assert.Equal(HttpStatusCode.OK, WebhookTraffic.PostSignedAsync(_url, TestEmulator.WebhookSecret, "first", "success").GetAwaiter().GetResult());
            Assert.Equal(HttpStatusCode.ServiceUnavailable, WebhookTraffic.PostSignedAsync(_url, TestEmulator.WebhookSecret, "second", "success").GetAwaiter().GetResult());
            File.WriteAllText(flag, "go");
            Assert.True(Eventually.True(() => WebhookTraffic.PostSignedAsync(_url, TestEmulator.WebhookSecret, "second", "success").GetAwaiter().GetResult() == HttpStatusCode.OK, Generous));

            PsResult r = receiving.Wait(Generous);
            Assert.Equal(new object[] { "first", "second" }, r.BaseOutput.ToArray());
        }

        [Fact]
        public void AnErrorThatStopsTheCommandComesAfterEveryUpdateAlreadyAnswered200()
        {
            // -ErrorAction Stop ($ErrorActionPreference = 'Stop' in a scheduled script): a signed delivery that is not a run
            // status is an error that ends the command. Updates answered 200 behind it were dropped with the command (the
            // sender never sends them again); they are written first, and nothing more is acknowledged.
            string flag = Path.Combine(TestDrive, "go");
            using RunningScript receiving = StartReceiving(
                "Receive-NenWebhook -Prefix $url -WebhookSecret $hook -ErrorAction Stop | ForEach-Object { while (-not (Test-Path -LiteralPath $flag)) { Start-Sleep -Milliseconds 20 }; $_.MessageId }",
                ("flag", flag));
            WaitUntilListening();
            const string notAStatus = "{\"not\":\"a run status\"}";

            Assert.Equal(HttpStatusCode.OK, WebhookTraffic.PostSignedAsync(_url, TestEmulator.WebhookSecret, "first", "success").GetAwaiter().GetResult());
            Assert.Equal(HttpStatusCode.BadRequest, WebhookTraffic.PostAsync(_url, notAStatus, WebhookTraffic.Sign(TestEmulator.WebhookSecret, notAStatus)).GetAwaiter().GetResult());
            Assert.Equal(HttpStatusCode.OK, WebhookTraffic.PostSignedAsync(_url, TestEmulator.WebhookSecret, "second", "success").GetAwaiter().GetResult());
            Assert.Equal(HttpStatusCode.OK, WebhookTraffic.PostSignedAsync(_url, TestEmulator.WebhookSecret, "third", "failed").GetAwaiter().GetResult());
            File.WriteAllText(flag, "go");

            PsResult r = receiving.Wait(Generous);

            Assert.Equal(new object[] { "first", "second", "third" }, r.BaseOutput.OrderBy(o => (string)o == "first" ? 0 : (string)o == "second" ? 1 : 2).ToArray());
            Assert.Equal("NenUnexpectedResponse,NenAi.Commands.ReceiveNenWebhookCommand", Assert.Single(r.AllErrors).FullyQualifiedErrorId);
            Assert.True(WebhookTraffic.CanListen(_url), "the port was not freed");
        }

        [Fact]
        public void AReadTimeoutOfOneSecondDropsAStalledBodyAfterASecond()
        {
            using RunningScript receiving = StartReceiving("Receive-NenWebhook -Prefix $url -WebhookSecret $hook -ReadTimeoutSec 1 -TimeoutSec 8");
            WaitUntilListening();
            int port = new Uri(_url).Port;
            using TcpClient stalled = WebhookTraffic.SendPartialAsync(port, WebhookTraffic.PostHead(port, 100)).GetAwaiter().GetResult();
            var clock = System.Diagnostics.Stopwatch.StartNew();

            string? answer = WebhookTraffic.ReadStatusLineAsync(stalled, Generous).GetAwaiter().GetResult();

            Assert.True(answer is null || answer.StartsWith("HTTP/1.1 408"), $"answered {answer}");
            Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(0.5), TimeSpan.FromSeconds(4));
            receiving.Stop();
        }

        [Fact]
        public void UpdatesAnEarlierReceiverAnsweredAndDidNotWriteAreWrittenFirstAndCounted()
        {
            string state = Path.Combine(TestDrive, "left.webhooks.jsonl");
            string body = WebhookTraffic.Body("left-behind", "success");
            File.WriteAllText(state, "{\"message_id\":\"left-behind\",\"status\":\"success\",\"received\":\"2026-01-01T00:00:00Z\",\"body\":" + System.Text.Json.JsonSerializer.Serialize(body) + "}\n");

            PsResult r = Receive(@"
                $got = Receive-NenWebhook -Prefix $url -WebhookSecret $hook -StatePath $state -TimeoutSec 1 -SummaryVariable sum -Verbose
                $got.MessageId; $got.Status; $sum.Outcomes.Recovered", ("state", state)).AssertClean();

            Assert.Equal(new object[] { "left-behind", "success", 1 }, r.BaseOutput.ToArray());
            Assert.Contains(r.Verbose, v => v.Message.Contains("1 update(s) an earlier receiver answered 200 and did not write are written first"));
            Assert.Contains(File.ReadAllLines(state), l => l.StartsWith("{\"message_id\":\"left-behind\",\"status\":\"success\",\"at\":"));
        }

        [TmpfsFact]
        public void AStateFileThatCannotBeWrittenEndsTheCommandWithNenWebhookStateWriteFailedAfterWritingWhatWasAcknowledged()
        {
            using TmpfsMount disk = TmpfsMount.Create(64);
            string state = Path.Combine(disk.Path, "webhooks.jsonl");
            using RunningScript receiving = StartReceiving("Receive-NenWebhook -Prefix $url -WebhookSecret $hook -StatePath $state", ("state", state));
            WaitUntilListening();
            disk.Fill();
            var acknowledged = new List<string>();
            HttpStatusCode answer = HttpStatusCode.OK;
            for (int i = 0; i < 100 && answer == HttpStatusCode.OK; i++)
            {
                answer = WebhookTraffic.PostSignedAsync(_url, TestEmulator.WebhookSecret, "run-" + i, "success").GetAwaiter().GetResult();
                if (answer == HttpStatusCode.OK) acknowledged.Add("run-" + i);
            }

            PsResult r = receiving.Wait(Generous);

            Assert.Equal(HttpStatusCode.InternalServerError, answer);
            Assert.Equal("NenWebhookStateWriteFailed,NenAi.Commands.ReceiveNenWebhookCommand", r.Terminating?.FullyQualifiedErrorId);
            Assert.Equal(state, r.Terminating!.TargetObject);
            Assert.Equal(acknowledged, r.Output.Select(o => (string)PsResult.Prop(o, "MessageId")!));
            Assert.True(WebhookTraffic.CanListen(_url));
        }

        [Fact]
        public void TheRunsOfAJournalAreReceivedThroughGetNenRun()
        {
            // The batch's webhooks went to a receiver that was not running: every run is found by polling.
            string journal = Path.Combine(TestDrive, "nightly.jsonl");
            Run("$rows | Start-NenRun -WorkflowId $echo -KeyProperty Id -JournalPath $journal -WebhookCallback $nobody | Out-Null",
                ("rows", CsvRows.Numbered(3)), ("journal", journal), ("nobody", WebhookTraffic.Prefix(WebhookTraffic.FreePort()))).AssertClean();

            PsResult r = Receive("Get-NenRun -JournalPath $journal | Receive-NenWebhook -Prefix $url -WebhookSecret $hook -FallbackAfterSec 0.5 -PollIntervalSec 0.2 -TimeoutSec 60",
                ("journal", journal)).AssertClean();

            Assert.Equal(State.Ledger.Select(e => e.MessageId).OrderBy(x => x), r.Output.Select(o => (string)PsResult.Prop(o, "MessageId")!).OrderBy(x => x));
            Assert.All(r.Output, o => Assert.Equal("NenAi.Run", PSObject.AsPSObject(PsResult.Prop(o, "InputObject")!).TypeNames[0]));
            WarningRecord late = Assert.Single(r.Warning, w => w.Message.StartsWith("No final webhook for 3 run(s)"));
            // Each named by its row, as the journal records it (it named message ids only).
            Assert.Equal(3, System.Text.RegularExpressions.Regex.Matches(late.Message, @"Row [123] \([^)]*\) \(run [0-9a-f-]{36}\)").Count);
        }

        [Fact]
        public void ErrorsHaveStableIdsAndNothingListensAfterwards()
        {
            int taken = WebhookTraffic.FreePort();
            var blocker = new HttpListener();
            blocker.Prefixes.Add(WebhookTraffic.Prefix(taken));
            blocker.Start();
            try
            {
                PsResult badPrefix = Receive("Receive-NenWebhook -Prefix 'ftp://127.0.0.1:8089/nen/' -WebhookSecret $hook");
                PsResult withPassword = Receive("Receive-NenWebhook -Prefix 'http://svc:canary-pw@127.0.0.1:8089/nen/' -WebhookSecret $hook");
                PsResult inUse = Receive("Receive-NenWebhook -Prefix $taken -WebhookSecret $hook -TimeoutSec 1", ("taken", WebhookTraffic.Prefix(taken)));
                PsResult notARun = Receive("@([pscustomobject]@{ Name = 'not a run' }, $null, 42) | Receive-NenWebhook -Prefix $url -WebhookSecret $hook; 'went on'");

                Assert.Equal("NenInvalidWebhookPrefix,NenAi.Commands.ReceiveNenWebhookCommand", badPrefix.Terminating?.FullyQualifiedErrorId);
                Assert.Equal(ErrorCategory.InvalidArgument, badPrefix.Terminating!.CategoryInfo.Category);
                Assert.Equal("NenInvalidWebhookPrefix,NenAi.Commands.ReceiveNenWebhookCommand", withPassword.Terminating?.FullyQualifiedErrorId);
                Assert.DoesNotContain("canary-pw", withPassword.AllText());
                Assert.Equal("NenWebhookListenFailed,NenAi.Commands.ReceiveNenWebhookCommand", inUse.Terminating?.FullyQualifiedErrorId);
                Assert.Equal(3, notARun.Errors.Count);
                Assert.All(notARun.Errors, e => Assert.Equal("NenInvalidMessageId,NenAi.Commands.ReceiveNenWebhookCommand", e.FullyQualifiedErrorId));
                Assert.Equal("not a run", PsResult.Prop(notARun.Errors[0].TargetObject, "Name"));
                Assert.Equal(new object[] { "went on" }, notARun.BaseOutput.ToArray());
                Assert.True(WebhookTraffic.CanListen(_url));
            }
            finally
            {
                blocker.Close();
            }
        }

        [Fact]
        public async Task AsAServiceAnUnknownStatusIsAWarningOncePerRunAndStatusAndABodyThatIsNoRunUpdateIsAnErrorAndNeverStored()
        {
            string state = Path.Combine(TestDrive, "whstate.json");
            using RunningScript receiving = StartReceiving("Receive-NenWebhook -Prefix $url -WebhookSecret $hook -StatePath $state -TimeoutSec 120 -Verbose", ("state", state));
            WaitUntilListening();
            string exploded = "eeeeeeee-0000-4000-8000-000000000003", other = Guid.NewGuid().ToString(), done = Guid.NewGuid().ToString();
            string Signed(string body) => WebhookTraffic.Sign(TestEmulator.WebhookSecret, body);
            async Task<HttpStatusCode> Post(string body) => await WebhookTraffic.PostAsync(_url, body, Signed(body));

            Assert.Equal(HttpStatusCode.OK, await WebhookTraffic.PostSignedAsync(_url, TestEmulator.WebhookSecret, exploded, "exploded"));
            Assert.Equal(HttpStatusCode.OK, await WebhookTraffic.PostSignedAsync(_url, TestEmulator.WebhookSecret, exploded, "exploded")); // redelivered
            Assert.Equal(HttpStatusCode.OK, await WebhookTraffic.PostSignedAsync(_url, TestEmulator.WebhookSecret, other, "exploded"));
            var notUpdates = new[]
            {
                "{\"workflow_id\":\"w\",\"message_id\":\"" + exploded + "\",\"status\":null,\"expires_at\":1730319600}",
                "{\"workflow_id\":\"w\",\"message_id\":\"../../../etc/passwd\",\"status\":\"success\",\"expires_at\":1730319600}",
                "{\"workflow_id\":\"w\",\"message_id\":12345,\"status\":\"success\",\"expires_at\":1730319600}",
                "{\"workflow_id\":\"w\",\"message_id\":\"" + new string('7', 100_000) + "\",\"status\":\"success\",\"expires_at\":1730319600}",
            };
            foreach (string body in notUpdates) Assert.Equal(HttpStatusCode.BadRequest, await Post(body));
            Assert.Equal(HttpStatusCode.OK, await WebhookTraffic.PostSignedAsync(_url, TestEmulator.WebhookSecret, done, "completed"));
            Assert.True(receiving.WaitForOutput(1, Generous));
            receiving.Stop();
            PsResult r = receiving.Wait(Generous);

            // The final update is written; the unknown status is no output, but a warning per run and status.
            Assert.Equal(done, PsResult.Prop(Assert.Single(r.Output), "MessageId"));
            Assert.Equal(2, r.Warning.Count(w => w.Message.Contains("'exploded'")));
            Assert.Single(r.Warning, w => w.Message.Contains($"Run {exploded}") && w.Message.Contains("'exploded'") && w.Message.Contains("treated as still running"));
            Assert.Single(r.Warning, w => w.Message.Contains($"Run {other}") && w.Message.Contains("'exploded'"));
            // Each body that is no run update is one error saying why, and was answered 400.
            Assert.Equal(4, r.Errors.Count);
            Assert.All(r.Errors, e =>
            {
                Assert.Equal("NenUnexpectedResponse,NenAi.Commands.ReceiveNenWebhookCommand", e.FullyQualifiedErrorId);
                Assert.Equal(ErrorCategory.InvalidResult, e.CategoryInfo.Category);
                Assert.Contains("answered 400", e.Exception.Message);
                Assert.True(e.Exception.Message.Length < 500, "the message shows no long value");
            });
            Assert.Contains("its status is null", r.Errors[0].Exception.Message);
            Assert.Contains("would change the request's path", r.Errors[1].Exception.Message);
            Assert.Contains("its message_id is a number", r.Errors[2].Exception.Message);
            Assert.Contains("100000 characters", r.Errors[3].Exception.Message);
            // Nothing of them is stored: the state file holds the one update written.
            string kept = File.ReadAllText(state);
            Assert.Contains(done, kept);
            Assert.DoesNotContain("etc/passwd", kept);
            Assert.DoesNotContain("7777777777", kept);
            Assert.True(kept.Length < 4096, $"the state file holds {kept.Length} characters");
        }

        [Fact]
        public void AStateFileHeldByAnotherReceiverIsNenWebhookStateInUse()
        {
            string state = Path.Combine(TestDrive, "shared.jsonl");
            using RunningScript first = StartReceiving("Receive-NenWebhook -Prefix $url -WebhookSecret $hook -StatePath $state", ("state", state));
            WaitUntilListening();

            using var otherSession = PsSession.For(Emulator);
            PsResult second = otherSession.Run("Receive-NenWebhook -Prefix $other -WebhookSecret $hook -StatePath $state",
                ("state", state), ("other", WebhookTraffic.Prefix(WebhookTraffic.FreePort())), ("hook", PsSession.Secure(TestEmulator.WebhookSecret)));

            Assert.Equal("NenWebhookStateInUse,NenAi.Commands.ReceiveNenWebhookCommand", second.Terminating?.FullyQualifiedErrorId);
            first.Stop();
        }

        [Fact]
        public void ProgressIsShownBoundedAndClosedAndNoProgressShowsNone()
        {
            const string batch = "$rows | Start-NenRun -WorkflowId $echo -ExcludeProperty Id -WebhookCallback $url -NoProgress | Receive-NenWebhook -Prefix $url -WebhookSecret $hook -FallbackAfterSec 5 -TimeoutSec 60 {0}";

            PsResult shown = Receive(string.Format(batch, string.Empty), ("rows", CsvRows.Numbered(30))).AssertClean();
            PsResult hidden = Receive(string.Format(batch, "-NoProgress"), ("rows", CsvRows.Numbered(30))).AssertClean();

            var records = shown.Progress.Where(p => p.ActivityId == 5).ToList();
            Assert.NotEmpty(records);
            Assert.All(records, p => Assert.Equal("Receive-NenWebhook", p.Activity));
            Assert.InRange(records.Count, 1, (int)(shown.Elapsed.TotalSeconds * 5) + 2);
            Assert.Equal(ProgressRecordType.Completed, records.Last().RecordType);
            Assert.Empty(hidden.Progress);
            Assert.Equal(30, hidden.Output.Count);
        }
    }

    /// <summary>NEN_WEBHOOK_SECRET is the fallback, as for Test-NenWebhookSignature (process environment: run alone).</summary>
    [Collection(ProcessEnvironment.Name)]
    public class ReceiveWebhookEnvironmentTests : HostedTest
    {
        [Fact]
        public void TheSecretComesFromNenWebhookSecretWhenNotGiven()
        {
            string url = WebhookTraffic.Prefix(WebhookTraffic.FreePort());
            using IDisposable env = ProcessEnvironment.Scope(("NEN_WEBHOOK_SECRET", TestEmulator.WebhookSecret));

            PsResult r = Run("$rows | Start-NenRun -WorkflowId $echo -WebhookCallback $url | Receive-NenWebhook -Prefix $url -FallbackAfterSec 30 -TimeoutSec 60",
                ("rows", CsvRows.Parse("NAME\nenv")), ("url", url)).AssertClean();

            Assert.Equal("success", PsResult.Prop(Assert.Single(r.Output), "Status"));
            Assert.Equal(0, State.GetRuns);
        }

        [Fact]
        public void WithoutASecretNothingListens()
        {
            string url = WebhookTraffic.Prefix(WebhookTraffic.FreePort());
            using IDisposable env = ProcessEnvironment.Scope();

            PsResult r = Run("Receive-NenWebhook -Prefix $url", ("url", url));

            Assert.Equal("NenMissingWebhookSecret,NenAi.Commands.ReceiveNenWebhookCommand", r.Terminating?.FullyQualifiedErrorId);
            Assert.Equal(ErrorCategory.InvalidArgument, r.Terminating!.CategoryInfo.Category);
            Assert.Contains("-WebhookSecret", r.Terminating.Exception.Message);
            Assert.True(WebhookTraffic.CanListen(url));
        }
    }
}
