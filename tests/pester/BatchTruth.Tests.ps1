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
