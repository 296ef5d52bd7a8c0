#Requires -Version 7.4
# Issue 17, as a user meets it in real pwsh: an outage, a wrong key, a server that is down, -ErrorAction Stop, a
# downstream stop, odd values. The emulator runs as its own process; its ledger (GET /_emulator/ledger) is the judge.
# Each test prints its figure ("batch truth: ...").

BeforeAll {
    $script:root = Resolve-Path (Join-Path $PSScriptRoot '../..')
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-Module (Join-Path $script:root 'tools/EmulatorProcess.psm1') -Force
    Import-Module (Join-Path $script:root 'NenAi.psd1') -Force

    $script:emulator = Start-EmulatorProcess -ConfigPath (Join-Path $PSScriptRoot 'emulator.pester.json')
    $script:baseUri = $script:emulator.BaseUri
    $script:echo = '11111111-1111-1111-1111-111111111111'
    $script:saved = @{ Base = $env:NEN_BASE_URL; Key = $env:NEN_API_KEY; Signing = $env:NEN_SIGNING_KEY }
    $env:NEN_BASE_URL = $script:baseUri
    $env:NEN_API_KEY = 'pester-api-key'
    $env:NEN_SIGNING_KEY = 'pester-signing-key'

    function Set-EmulatorFaults([hashtable] $Faults) {
        Invoke-RestMethod -Method Post -Uri "$script:baseUri/_emulator/faults" -ContentType 'application/json' -Body ($Faults | ConvertTo-Json) | Out-Null
    }

    # Every row's NAME on the emulator's ledger, with how many runs it started.
    function Get-StartedRows {
        (Get-EmulatorLedger $script:baseUri).runs | Group-Object { $_.params.NAME } -NoElement
    }

    # Every error record of a command: its non-terminating ones and the one that ended it, each once.
    function Join-ErrorRecords($NonTerminating, $Terminating) {
        $all = [System.Collections.Generic.List[object]]::new()
        foreach ($e in @($NonTerminating) + @($Terminating)) {
            if ($null -eq $e) { continue }
            # -ErrorVariable keeps the error that ended the command as the exception that carries it.
            if ($e -is [System.Management.Automation.IContainsErrorRecord]) { $e = $e.ErrorRecord }
            if (-not ($all | Where-Object { [object]::ReferenceEquals($_, $e) -or ($_.Exception -and [object]::ReferenceEquals($_.Exception, $e.Exception)) })) { $all.Add($e) }
        }
        , $all
    }
}

AfterAll {
    Stop-EmulatorProcess $script:emulator
    $env:NEN_BASE_URL = $script:saved.Base; $env:NEN_API_KEY = $script:saved.Key; $env:NEN_SIGNING_KEY = $script:saved.Signing
    Remove-Module NenAi -ErrorAction SilentlyContinue
}

Describe 'A batch tells the truth (issue 17)' {
    BeforeEach {
        Invoke-RestMethod -Method Post -Uri "$script:baseUri/_emulator/reset" | Out-Null
    }

    Describe 'One circuit for a service that is not working' {
        It 'stops 200 journaled rows within 10 POSTs of a 500 outage, and the same command afterwards starts every row exactly once' {
            $journal = Join-Path $TestDrive 'outage.jsonl'
            $rows = 1..200 | ForEach-Object { [pscustomobject]@{ JobId = "$_"; NAME = "outage $_" } }
            Set-EmulatorFaults @{ rate500 = 1; applyTo = 'post' }

            $stop = $null
            try { $rows | Start-NenRun -WorkflowId $script:echo -KeyProperty JobId -ExcludeProperty JobId -JournalPath $journal -ErrorVariable rowErrors -ErrorAction SilentlyContinue | Out-Null }
            catch { $stop = $_ }
            $outagePosts = (Get-EmulatorLedger $script:baseUri).requests.postRuns
            # Issue 25: the stop is the last error, non-terminating (written after every run), no longer thrown.
            $stop | Should -BeNullOrEmpty
            $stop = @($rowErrors)[-1]

            $stop.FullyQualifiedErrorId | Should -Be 'NenServerError,NenAi.Commands.StartNenRunCommand'
            $stop.Exception.Message | Should -Match 'not sent'
            $outagePosts | Should -BeLessOrEqual 10
            @($rowErrors | Where-Object { $_.FullyQualifiedErrorId -like 'NenOutcomeUnknown,*' }).Count | Should -BeLessOrEqual 10

            Set-EmulatorFaults @{}
            $runs = $rows | Start-NenRun -WorkflowId $script:echo -KeyProperty JobId -ExcludeProperty JobId -JournalPath $journal -RetryUnknown
            $started = Get-StartedRows

            Write-Host "batch truth: 200 journaled rows into a 500 outage: $outagePosts POSTs, $(@($rowErrors | Where-Object { $_.FullyQualifiedErrorId -like "NenOutcomeUnknown,*" }).Count) rows unknown, one terminating $($stop.FullyQualifiedErrorId.Split(',')[0]); after the outage (-RetryUnknown): $(@($runs).Count) runs written, $(@($started).Count) rows on the ledger, $(@($started | Where-Object Count -GT 1).Count) started twice"
            @($runs).Count | Should -Be 200
            @($started).Count | Should -Be 200
            @($started | Where-Object Count -NE 1) | Should -BeNullOrEmpty
        }

        It 'sends at most -ThrottleLimit of 500 rows with a wrong key, with at most 2 error records and no run' {
            $rows = 1..500 | ForEach-Object { [pscustomobject]@{ NAME = "key $_" } }
            $wrong = ConvertTo-SecretText 'pester-wrong-key-0417'
            $clock = [System.Diagnostics.Stopwatch]::StartNew()
            $stop = $null
            try { $rows | Start-NenRun -WorkflowId $script:echo -ApiKey $wrong -ThrottleLimit 8 -ErrorVariable rowErrors -ErrorAction SilentlyContinue | Out-Null }
            catch { $stop = $_ }
            $clock.Stop()
            $ledger = Get-EmulatorLedger $script:baseUri
            $records = Join-ErrorRecords $rowErrors $stop
            $stop | Should -BeNullOrEmpty   # issue 25: the last error, non-terminating
            $stop = $records[-1]

            Write-Host "batch truth: 500 rows with a wrong key: $($ledger.requests.postRuns) POSTs, $($records.Count) error record(s), $($ledger.accepted) runs, $([int]$clock.Elapsed.TotalMilliseconds) ms: $($stop.Exception.Message)"
            $ledger.requests.postRuns | Should -BeLessOrEqual 8
            $records.Count | Should -BeLessOrEqual 2
            $ledger.accepted | Should -Be 0
            $stop.FullyQualifiedErrorId | Should -Be 'NenUnauthorized,NenAi.Commands.StartNenRunCommand'
            $stop.CategoryInfo.Category | Should -Be 'AuthenticationError'
            $stop.Exception.Message | Should -Match 'API key'
            $stop.Exception.Message | Should -Match 'not sent'
            $stop.Exception.Message | Should -Not -Match 'pester-wrong-key'
        }

        It 'ends 500 rows against a server that is down with one clear error' {
            $listener = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
            $listener.Start(); $port = $listener.LocalEndpoint.Port; $listener.Stop()   # a port nobody listens on: connections are refused
            $rows = 1..500 | ForEach-Object { [pscustomobject]@{ NAME = "down $_" } }
            $clock = [System.Diagnostics.Stopwatch]::StartNew()
            $stop = $null
            try { $rows | Start-NenRun -WorkflowId $script:echo -BaseUri "http://127.0.0.1:$port" -ErrorVariable rowErrors -ErrorAction SilentlyContinue | Out-Null }
            catch { $stop = $_ }
            $clock.Stop()
            $records = Join-ErrorRecords $rowErrors $stop
            $stop | Should -BeNullOrEmpty   # issue 25: the last error, non-terminating
            $stop = $records[-1]

            Write-Host "batch truth: 500 rows, server down: $($records.Count) error record(s) in $([math]::Round($clock.Elapsed.TotalSeconds, 1)) s: $($stop.FullyQualifiedErrorId)"
            $records.Count | Should -Be 1
            $stop.FullyQualifiedErrorId | Should -Be 'NenNetworkError,NenAi.Commands.StartNenRunCommand'
            $stop.Exception.Message | Should -Match 'not sent'
        }
    }

    Describe '-ErrorAction Stop means stop' {
        It 'accepts at most -ThrottleLimit runs when row 2 of 50 is refused at 50 ms latency, each written before the error' {
            Set-EmulatorFaults @{ latencyMs = 50; applyTo = 'post' }
            $rows = 1..50 | ForEach-Object { [pscustomobject]@{ NAME = "stop $_"; COUNT = if ($_ -eq 2) { 'many' } else { "$_" } } }
            $written = [System.Collections.Generic.List[object]]::new()
            $stop = $null
            try { $rows | Start-NenRun -WorkflowId $script:echo -ThrottleLimit 8 -ErrorAction Stop | ForEach-Object { $written.Add($_) } }
            catch { $stop = $_ }
            $ledger = Get-EmulatorLedger $script:baseUri

            Write-Host "batch truth: row 2 of 50 invalid, -ErrorAction Stop, -ThrottleLimit 8, 50 ms: $($ledger.accepted) runs accepted, $($ledger.requests.postRuns) POSTs, $($written.Count) written before the error"
            $stop.FullyQualifiedErrorId | Should -Be 'NenInvalidWorkflowParams,NenAi.Commands.StartNenRunCommand'
            $ledger.accepted | Should -BeLessOrEqual 8
            $written.Count | Should -Be $ledger.accepted
        }
    }

    Describe 'A downstream stop is a normal end' {
        It 'finishes the rows on the wire and names the runs it did not write (no journal)' {
            Set-EmulatorFaults @{ latencyMs = 300; applyTo = 'post' }
            $first = 1..20 | ForEach-Object { [pscustomobject]@{ NAME = "first $_" } } |
                Start-NenRun -WorkflowId $script:echo -ThrottleLimit 8 -WarningVariable warned -ErrorVariable rowErrors | Select-Object -First 1
            $ledger = Get-EmulatorLedger $script:baseUri

            Write-Host "batch truth: downstream stop (Select-Object -First 1, -ThrottleLimit 8, 300 ms): $(@($first).Count) written, $($ledger.requests.postRuns) POSTs, $($ledger.accepted) runs accepted, $(@($rowErrors).Count) errors, $(@($warned).Count) warning naming the others"
            @($first).Count | Should -Be 1
            @($rowErrors).Count | Should -Be 0
            $ledger.accepted | Should -Be $ledger.requests.postRuns   # every row sent finished: none was cut off
            $ledger.accepted | Should -BeLessOrEqual 16
            foreach ($run in $ledger.runs | Where-Object messageId -NE $first.MessageId) { "$warned" | Should -Match $run.messageId }
        }

        It 'journals the rows on the wire, so the same command finishes the batch with no unknown row' {
            Set-EmulatorFaults @{ latencyMs = 300; applyTo = 'post' }
            $journal = Join-Path $TestDrive 'downstream.jsonl'
            $rows = 1..20 | ForEach-Object { [pscustomobject]@{ Id = "$_"; NAME = "journaled $_" } }
            $first = $rows | Start-NenRun -WorkflowId $script:echo -ThrottleLimit 8 -KeyProperty Id -ExcludeProperty Id -JournalPath $journal -WarningAction SilentlyContinue | Select-Object -First 1
            $startedBefore = (Get-EmulatorLedger $script:baseUri).accepted

            Set-EmulatorFaults @{}
            $again = $rows | Start-NenRun -WorkflowId $script:echo -KeyProperty Id -ExcludeProperty Id -JournalPath $journal -ErrorVariable rowErrors
            $started = Get-StartedRows

            Write-Host "batch truth: downstream stop with a journal: $startedBefore runs started before the stop; the re-run wrote $(@($again | Where-Object Status -EQ 'AlreadyAccepted').Count) AlreadyAccepted and $(@($again | Where-Object Status -EQ 'Accepted').Count) Accepted, $(@($rowErrors).Count) errors; $(@($started).Count) rows on the ledger"
            @($first).Count | Should -Be 1
            @($rowErrors).Count | Should -Be 0
            @($again).Count | Should -Be 20
            @($again | Where-Object Status -EQ 'AlreadyAccepted').Count | Should -Be $startedBefore
            @($started).Count | Should -Be 20
            @($started | Where-Object Count -NE 1) | Should -BeNullOrEmpty
        }
    }

    Describe 'Every value sent faithfully or refused as its row''s error' {
        It 'sends nested objects, lists, enumerables and booleans by their type' {
            $row = @{
                NAME  = 'nested'
                Inner = [pscustomobject]@{ City = 'Paris' }
                List  = [System.Collections.Generic.List[object]]@(1, [pscustomobject]@{ a = 1 })
                Piped = @(1..3 | ForEach-Object { $_ })
                Flag  = (Test-Path $TestDrive)
                Deep  = @{ Level = @{ Items = @([ordered]@{ b = 2.5 }) } }
            }
            $run = $row | Start-NenRun -WorkflowId $script:echo
            $sent = ((Get-EmulatorLedger $script:baseUri).runs | Where-Object messageId -EQ $run.MessageId).params

            Write-Host "batch truth: nested values as sent: $($sent | ConvertTo-Json -Compress -Depth 10)"
            $sent.Inner.City | Should -Be 'Paris'
            $sent.List[0] | Should -Be 1
            $sent.List[0] | Should -BeOfType ([long])
            $sent.List[1].a | Should -Be 1
            $sent.Piped | Should -Be @(1, 2, 3)
            $sent.Piped[0] | Should -BeOfType ([long])
            $sent.Flag | Should -BeOfType ([bool])
            $sent.Flag | Should -BeTrue
            $sent.Deep.Level.Items[0].b | Should -Be 2.5
        }

        It 'refuses NaN, infinity and a lone surrogate as one row error each, <Case>, and sends the rows around them' -ForEach @(
            @{ Case = 'without a journal'; Journal = $false }
            @{ Case = 'with a journal'; Journal = $true }
        ) {
            $rows = @(
                [pscustomobject]@{ Id = '1'; NAME = 'before' }
                [pscustomobject]@{ Id = '2'; NAME = 'nan'; AMOUNT = [double]::NaN }
                [pscustomobject]@{ Id = '3'; NAME = 'infinity'; AMOUNT = [double]::PositiveInfinity }
                [pscustomobject]@{ Id = '4'; NAME = "surrogate $([char]0xD800)" }
                [pscustomobject]@{ Id = '5'; NAME = 'after' }
            )
            $journalArgs = if ($Journal) { @{ JournalPath = (Join-Path $TestDrive "values-$([guid]::NewGuid()).jsonl"); KeyProperty = 'Id' } } else { @{} }
            $runs = $rows | Start-NenRun -WorkflowId $script:echo -ExcludeProperty Id @journalArgs -ErrorVariable rowErrors -ErrorAction SilentlyContinue

            Write-Host "batch truth: NaN, infinity and a lone surrogate $Case : $(@($runs).Count) runs, errors: $(($rowErrors | ForEach-Object { $_.FullyQualifiedErrorId.Split(',')[0] + ' (' + $_.TargetObject.Id + ')' }) -join ', ')"
            (@($runs).InputObject.NAME | Sort-Object) | Should -Be @('after', 'before')   # in the order they were accepted
            @($rowErrors).Count | Should -Be 3
            # Each message names its row: its number in the input, and its -KeyProperty value when there is one.
            $rowErrors | ForEach-Object { $_.Exception.Message | Should -Match "^Row $($_.TargetObject.Id)$(if ($Journal) { " \(Id $($_.TargetObject.Id)\)" }): " }
            $rowErrors | ForEach-Object { $_.FullyQualifiedErrorId | Should -Be 'NenInvalidParameterValue,NenAi.Commands.StartNenRunCommand' }
            ($rowErrors.TargetObject.Id | Sort-Object) | Should -Be @('2', '3', '4')
            (Get-EmulatorLedger $script:baseUri).accepted | Should -Be 2
        }
    }
}

# Issue 25, Start-NenRun's side, as a user meets it in real pwsh, against the emulator AND the independent fake
# (tests/fakes/fake_nen.py), each judged by its own ledger: an answer every row would get is given once, what was
# started before a stop stays in the user's hands, and a burst of 429 is ridden out.
Describe 'Start-NenRun tells the truth against the <Server> (issue 25)' -ForEach @(
    @{ Server = 'emulator' }
    @{ Server = 'fake' }
) {
    BeforeAll {
        $script:server = $Server
        if ($Server -eq 'fake') {
            $script:fake = Start-FakeNen -ArgumentList '--files', '2', '--file-size', '2048'
            $script:nen = @{ BaseUri = $script:fake.BaseUri; ApiKey = $script:fake.ApiKey; NoProgress = $true }
            $script:workflow = '11111111-1111-1111-1111-111111111111'
            $script:filesPerRun = 2
        }
        else {
            $script:nen = @{ BaseUri = $script:baseUri; NoProgress = $true }   # the key from NEN_API_KEY, as a task has it
            $script:workflow = $script:echo
            $script:filesPerRun = 2   # report.txt, and the assets.zip every emulated run has
        }

        function Reset-Server {
            if ($script:server -eq 'fake') { Reset-FakeNen $script:fake }
            else {
                Invoke-RestMethod -Method Post -Uri "$script:baseUri/_emulator/reset" | Out-Null
                Invoke-RestMethod -Method Post -Uri "$script:baseUri/_emulator/faults/clear" | Out-Null
            }
        }

        # What the server does to every POST /runs from now on (GETs and downloads are served as usual).
        function Set-PostFault([string] $Kind) {
            if ($script:server -eq 'fake') {
                $fault = switch ($Kind) {
                    'burst'  { @{ status = 429; retryAfter = 1; forSeconds = 20 } }
                    'storm'  { @{ status = 429; retryAfter = 300 } }
                    'outage' { @{ status = 500 } }
                    'resets' { @{ reset = $true } }
                    'key'    { @{ status = 401 } }
                    'none'   { $null }
                }
                Set-FakeNenFault $script:fake $(if ($fault) { @{ post = $fault } } else { @{} })
                return
            }
            $post = { param($Path, $Body) Invoke-RestMethod -Method Post -Uri "$script:baseUri/_emulator/$Path" -ContentType 'application/json' -Body ($Body | ConvertTo-Json) | Out-Null }
            switch ($Kind) {
                'burst'  { & $post 'faults' @{ applyTo = 'post'; stormForSeconds = 20; stormRetryAfterSeconds = 1 } }
                'storm'  { & $post 'faults/next' @{ kind = '429'; route = 'POST /runs'; count = 100000; retryAfterSeconds = 300 } }
                'outage' { & $post 'faults' @{ applyTo = 'post'; rate500 = 1 } }
                'resets' { & $post 'faults' @{ applyTo = 'post'; rateReset = 1 } }
                'key'    { & $post 'faults/next' @{ kind = 'raw'; route = 'POST /runs'; count = 100000; statusCode = 401; body = '{"error":"unauthorized","message":"The API key was revoked."}' } }
                'none'   { Invoke-RestMethod -Method Post -Uri "$script:baseUri/_emulator/faults/clear" | Out-Null }
            }
        }

        # The server's own counts: POST /runs received, runs started, and the row NAME of each run.
        function Get-ServerLedger {
            if ($script:server -eq 'fake') {
                $l = Get-FakeNenLedger $script:fake
                return [pscustomobject]@{ Posts = [int]$l.requests.post; Runs = @($l.runs).Count; Names = @($l.runs | ForEach-Object { $_.params.NAME }); Ids = @($l.runs.id) }
            }
            $l = Get-EmulatorLedger $script:baseUri
            [pscustomobject]@{ Posts = [int]$l.requests.postRuns; Runs = [int]$l.accepted; Names = @($l.runs | ForEach-Object { $_.params.NAME }); Ids = @($l.runs.messageId) }
        }

        # For ForEach-Object between the rows and Start-NenRun: passes each row on; before row 11, waits until rows 1-10
        # have started their runs (a condition, not a time), then makes every POST fail with <Fault>.
        $script:breakAtRow11 = {
            if ($_.JobId -eq '11') {
                $clock = [System.Diagnostics.Stopwatch]::StartNew()
                while ((Get-ServerLedger).Runs -lt 10) {
                    if ($clock.Elapsed.TotalSeconds -gt 60) { throw 'rows 1-10 did not start their runs' }
                    Start-Sleep -Milliseconds 20
                }
                Set-PostFault $script:breakWith
            }
            $_
        }
        function New-BreakAtRow11([string] $Fault) {
            $script:breakWith = $Fault
            $script:breakAtRow11
        }

        function New-Rows([int] $Count, [string] $Prefix = 'row') {
            1..$Count | ForEach-Object { [pscustomobject]@{ JobId = "$_"; NAME = "$Prefix $_" } }
        }
    }

    AfterAll {
        if ($script:fake) { Stop-FakeNen $script:fake; $script:fake = $null }
    }

    BeforeEach { Reset-Server }

    Context 'An answer every row would get is given once' {
        It 'refuses 100 rows naming a workflow the service does not know with at most -ThrottleLimit POSTs and one error' {
            $stop = $null
            try { New-Rows 100 | Start-NenRun @nen -WorkflowId '99999999-9999-4999-8999-999999999999' -ExcludeProperty JobId -ThrottleLimit 8 -ErrorVariable rowErrors -WarningVariable warned -SummaryVariable s -ErrorAction SilentlyContinue -WarningAction SilentlyContinue | Out-Null }
            catch { $stop = $_ }
            $ledger = Get-ServerLedger

            Write-Host "batch truth ($Server): 100 rows, unknown workflow, -ThrottleLimit 8: $($ledger.Posts) POSTs, $(@($rowErrors).Count) error(s): $(@($rowErrors)[0].Exception.Message)"
            $stop | Should -BeNullOrEmpty
            $ledger.Posts | Should -BeGreaterThan 0
            $ledger.Posts | Should -BeLessOrEqual 8
            @($rowErrors).Count | Should -Be 1
            $rowErrors[0].FullyQualifiedErrorId | Should -Be 'NenWorkflowNotFound,NenAi.Commands.StartNenRunCommand'
            $rowErrors[0].Exception.Message | Should -Match '^Row \d+: ' -Because 'every row-level message names its row'
            $s.Outcomes.Failed | Should -Be 100
            "$warned" | Should -Match '99 more row\(s\) naming it were not started'
            $ledger.Runs | Should -Be 0
        }

        It 'refuses a -WorkflowId that is not an id (invoice-export) with 0 POSTs and one error' {
            $stop = $null
            try { New-Rows 50 | Start-NenRun @nen -WorkflowId 'invoice-export' -ErrorVariable rowErrors -ErrorAction SilentlyContinue | Out-Null }
            catch { $stop = $_ }
            $records = Join-ErrorRecords $rowErrors $stop

            Write-Host "batch truth ($Server): -WorkflowId invoice-export, 50 rows: $((Get-ServerLedger).Posts) POSTs, $($records.Count) error(s): $($records[0].Exception.Message)"
            (Get-ServerLedger).Posts | Should -Be 0
            $records.Count | Should -Be 1
            $records[0].FullyQualifiedErrorId | Should -Be 'NenInvalidWorkflowId,NenAi.Commands.StartNenRunCommand'
            $records[0].Exception.Message | Should -Match "not a workflow id"
        }

        It 'refuses a <Name> the first row lacks with 0 POSTs and one error' -ForEach @(
            @{ Name = '-KeyProperty column'; Splat = @{ KeyProperty = 'JobID_'; ExcludeProperty = 'JobId' } }
            @{ Name = '-Property column'; Splat = @{ Property = 'NAME', 'JobIdd' } }
        ) {
            $stop = $null
            try { New-Rows 50 | Start-NenRun @nen -WorkflowId $script:workflow @Splat -ErrorVariable rowErrors -ErrorAction SilentlyContinue | Out-Null }
            catch { $stop = $_ }
            $records = Join-ErrorRecords $rowErrors $stop

            Write-Host "batch truth ($Server): a mistyped $Name, 50 rows: $((Get-ServerLedger).Posts) POSTs, $($records.Count) error(s): $($records[0].Exception.Message)"
            (Get-ServerLedger).Posts | Should -Be 0
            $records.Count | Should -Be 1
            $records[0].FullyQualifiedErrorId | Should -Be 'NenMissingColumn,NenAi.Commands.StartNenRunCommand'
            $records[0].Exception.Message | Should -Match 'Its columns are: JobId, NAME\.'
        }

        It 'keeps -ExcludeProperty lenient, as Select-Object is: a column no row has is ignored' {
            $runs = New-Rows 3 | Start-NenRun @nen -WorkflowId $script:workflow -ExcludeProperty JobId, NoSuchColumn -ErrorVariable rowErrors
            @($runs).Count | Should -Be 3
            @($rowErrors).Count | Should -Be 0
            (Get-ServerLedger).Runs | Should -Be 3
        }
    }

    Context 'What was started stays in the user''s hands' {
        It 'after <Kind>, $r holds every accepted run, Wait-NenRun | Get-NenRunResult saves their files, and the one error names the rows not sent' -ForEach @(
            @{ Kind = 'a 429 storm beyond the budget'; Fault = 'storm'; Id = 'NenRateLimited' }
            @{ Kind = 'an outage'; Fault = 'outage'; Id = 'NenServerError' }
            @{ Kind = 'connections reset'; Fault = 'resets'; Id = 'NenNetworkError' }
            @{ Kind = 'a key refused mid-batch'; Fault = 'key'; Id = 'NenUnauthorized' }
        ) {
            # Rows 1-10 start their runs; as row 11 is read, every POST from then on fails.
            $stop = $null
            try { $r = New-Rows 30 | ForEach-Object (New-BreakAtRow11 $Fault) | Start-NenRun @nen -WorkflowId $script:workflow -KeyProperty JobId -ExcludeProperty JobId -ThrottleLimit 4 -ErrorVariable startErrors -SummaryVariable started -ErrorAction SilentlyContinue }
            catch { $stop = $_ }
            $ledger = Get-ServerLedger
            $out = Join-Path $TestDrive "$Server-$Fault"
            $files = $r | Wait-NenRun @nen -PollIntervalSec 0.2 -TimeoutSec 60 | Get-NenRunResult @nen -Destination $out
            $last = @($startErrors)[-1]

            Write-Host "batch truth ($Server): 30 rows, $Kind after row 10: `$r holds $(@($r).Count) run(s) of $($ledger.Runs) started, $(@($files).Count) file(s) saved; $(@($startErrors).Count) error(s), the last: $($last.Exception.Message)"
            $stop | Should -BeNullOrEmpty -Because 'the stop is a non-terminating error, so the assignment keeps the runs'
            $ledger.Runs | Should -Be 10
            @($r).Count | Should -Be 10
            @($r.MessageId | Sort-Object) | Should -Be @($ledger.Ids | Sort-Object)
            @($files).Count | Should -Be (10 * $script:filesPerRun)
            @($files.MessageId | Sort-Object -Unique) | Should -Be @($ledger.Ids | Sort-Object)
            $last.FullyQualifiedErrorId | Should -Be "$Id,NenAi.Commands.StartNenRunCommand"
            @($startErrors | Where-Object { $_.FullyQualifiedErrorId -notlike 'NenOutcomeUnknown,*' }).Count | Should -Be 1 -Because 'one error for the batch, never one per row'
            $started.Stopped | Should -BeTrue
            $started.HasProblems | Should -BeTrue
            $last.Exception.Message | Should -Match "$($started.Outcomes.NotSent) not sent \(rows [^;]*-30; nothing was started for them\)"
        }

        It 'follows the runs of a stopped batch in the same pipeline, and -ErrorAction Stop still ends the script' {
            $files = New-Rows 30 | ForEach-Object (New-BreakAtRow11 'storm') | Start-NenRun @nen -WorkflowId $script:workflow -ExcludeProperty JobId -ThrottleLimit 4 -ErrorVariable startErrors -ErrorAction SilentlyContinue |
                Wait-NenRun @nen -PollIntervalSec 0.2 -TimeoutSec 60 |
                Get-NenRunResult @nen -Destination (Join-Path $TestDrive "$Server-pipeline")
            @($files).Count | Should -Be (10 * $script:filesPerRun)
            @($startErrors).Count | Should -Be 1

            Reset-Server
            $stop = $null
            try { $r = New-Rows 30 | ForEach-Object (New-BreakAtRow11 'storm') | Start-NenRun @nen -WorkflowId $script:workflow -ExcludeProperty JobId -ThrottleLimit 4 -ErrorAction Stop -WarningVariable warned -WarningAction SilentlyContinue; $reached = $true }
            catch { $stop = $_ }
            $reached | Should -BeNullOrEmpty
            $stop.FullyQualifiedErrorId | Should -Be 'NenRateLimited,NenAi.Commands.StartNenRunCommand'
            "$warned" | Should -Match 'started 10 run\(s\)'
        }
    }

    Context 'Ride out a storm, stop at a real outage' {
        It 'rides out a 20 s burst of 429 (Retry-After 1): every row accepted once, the batch paused as one' {
            Set-PostFault 'burst'
            $clock = [System.Diagnostics.Stopwatch]::StartNew()
            $runs = New-Rows 30 | Start-NenRun @nen -WorkflowId $script:workflow -ExcludeProperty JobId -ThrottleLimit 8 -ErrorVariable rowErrors -SummaryVariable s
            $clock.Stop()
            $ledger = Get-ServerLedger

            Write-Host "batch truth ($Server): a 20 s burst of 429 (Retry-After 1), 30 rows: $(@($runs).Count) accepted, $($ledger.Runs) runs, $($ledger.Posts) POSTs, $([math]::Round($clock.Elapsed.TotalSeconds, 1)) s; before issue 25 the batch stopped after 6 s with 0 sent"
            @($rowErrors).Count | Should -Be 0
            @($runs).Count | Should -Be 30
            $ledger.Runs | Should -Be 30
            @($ledger.Names | Sort-Object -Unique).Count | Should -Be 30 -Because 'every row accepted once'
            $clock.Elapsed.TotalSeconds | Should -BeGreaterThan 19
            # The whole batch paused: the 8 requests on the wire, then about one probe a second for 20 s.
            ($ledger.Posts - 30) | Should -BeLessOrEqual (8 + 20 + 5)
            $s.Stopped | Should -BeFalse
        }
    }
}
