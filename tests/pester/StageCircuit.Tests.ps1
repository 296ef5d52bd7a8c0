#Requires -Version 7.4
# Issue 25, items 1 and 5, as a user meets them in real pwsh, against the emulator (its own process) and against
# tests/fakes/fake_nen.py (an independent fake in Python's standard library), each judged by its own ledger: a status
# outage and a refused key through Wait-NenRun and Get-NenRun, parallel downloads and storage that stalls through
# Get-NenRunResult. Each test prints its figures ("stage circuit: ...").

BeforeDiscovery {
    $script:servers = @(@{ Kind = 'emulator' }, @{ Kind = 'fake' })
}

BeforeAll {
    $script:root = Resolve-Path (Join-Path $PSScriptRoot '../..')
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-Module (Join-Path $script:root 'tools/EmulatorProcess.psm1') -Force
    Import-Module (Join-Path $script:root 'NenAi.psd1') -Force
    $script:workflow = '11111111-1111-1111-1111-111111111111'   # both servers' echo: two files a run

    # Every error record of a command, each once: -ErrorVariable also keeps the one that ended it (as an exception).
    function Join-ErrorRecords($NonTerminating, $Terminating) {
        $all = [System.Collections.Generic.List[object]]::new()
        foreach ($e in @($NonTerminating) + @($Terminating)) {
            if ($null -eq $e) { continue }
            if ($e -is [System.Management.Automation.IContainsErrorRecord]) { $e = $e.ErrorRecord }
            if (-not ($all | Where-Object { [object]::ReferenceEquals($_, $e) -or ($_.Exception -and [object]::ReferenceEquals($_.Exception, $e.Exception)) })) { $all.Add($e) }
        }
        , $all
    }
}

Describe 'One circuit for every stage, against the <Kind>' -ForEach $servers {
    BeforeAll {
        if ($Kind -eq 'emulator') {
            $script:server = Start-EmulatorProcess -ConfigPath (Join-Path $PSScriptRoot 'emulator.pester.json')
            $script:c = @{ BaseUri = $script:server.BaseUri; ApiKey = (ConvertTo-SecretText 'pester-api-key'); SigningKey = (ConvertTo-SecretText 'pester-signing-key'); NoProgress = $true }
        }
        else {
            $script:server = Start-FakeNen -ArgumentList '--files', '2', '--file-size', '65536'
            $script:c = @{ BaseUri = $script:server.BaseUri; ApiKey = $script:server.ApiKey; NoProgress = $true }
        }

        # The same scenario on either server: its own admin API and its own ledger.
        function Set-Scenario([string] $Name) {
            if ($Kind -eq 'emulator') {
                $base = $script:server.BaseUri
                switch ($Name) {
                    'healthy' { Invoke-RestMethod -Method Post -Uri "$base/_emulator/faults/clear" | Out-Null }
                    'status outage' { Invoke-RestMethod -Method Post -Uri "$base/_emulator/faults" -ContentType 'application/json' -Body (@{ rate500 = 1; applyTo = 'get' } | ConvertTo-Json) | Out-Null }
                    'slow files' { Invoke-RestMethod -Method Post -Uri "$base/_emulator/faults" -ContentType 'application/json' -Body (@{ latencyMs = 250 } | ConvertTo-Json) | Out-Null }
                    'stalled storage' { Invoke-RestMethod -Method Post -Uri "$base/_emulator/faults/next" -ContentType 'application/json' -Body (@{ kind = 'stall-download'; route = 'GET /files'; count = 1000000 } | ConvertTo-Json) | Out-Null }
                }
            }
            else {
                switch ($Name) {
                    'healthy' { Set-FakeNenFault $script:server @{} }
                    'status outage' { Set-FakeNenFault $script:server @{ get = @{ status = 500 } } }
                    'slow files' { Set-FakeNenFault $script:server @{ files = @{ latencyMs = 250 } } }
                    'stalled storage' { Set-FakeNenFault $script:server @{ files = @{ stall = 'body' } } }
                }
            }
        }

        # GET /runs/{id} and downloads so far, and (the fake only) the most downloads that were in flight at once.
        function Get-Counts {
            if ($Kind -eq 'emulator') {
                $l = Get-EmulatorLedger $script:server.BaseUri
                [pscustomobject]@{ Gets = $l.requests.getRuns; Downloads = $l.requests.downloads; MaxFilesInFlight = $null }
            }
            else {
                $l = Get-FakeNenLedger $script:server
                [pscustomobject]@{ Gets = $l.requests.get; Downloads = $l.requests.files; MaxFilesInFlight = $l.maxFilesInFlight }
            }
        }

        function New-Runs([int] $Count, [string] $Prefix) {
            Set-Scenario 'healthy'
            1..$Count | ForEach-Object { [pscustomobject]@{ NAME = "$Prefix $_" } } | Start-NenRun @script:c -WorkflowId $script:workflow
        }

        function New-FinishedRuns([int] $Count, [string] $Prefix) {
            New-Runs $Count $Prefix | Wait-NenRun @script:c -PollIntervalSec 0.2 -TimeoutSec 60
        }
    }

    AfterAll {
        if ($Kind -eq 'emulator') { Stop-EmulatorProcess $script:server } else { Stop-FakeNen $script:server }
    }

    It 'gives up on 20 runs in a status outage within 45 s with at most 60 GETs, one error and none counted failed (Wait-NenRun)' {
        $runs = New-Runs 20 'outage'
        Set-Scenario 'status outage'
        $before = Get-Counts
        $clock = [System.Diagnostics.Stopwatch]::StartNew()
        $stop = $null
        try { $runs | Wait-NenRun @c -PollIntervalSec 1 -SummaryVariable summary -ErrorVariable waitErrors | Out-Null }
        catch { $stop = $_ }
        $clock.Stop()
        $gets = (Get-Counts).Gets - $before.Gets
        $records = Join-ErrorRecords $waitErrors $stop

        Write-Host "stage circuit ($Kind): 20 runs in a status outage, Wait-NenRun: $gets GETs, $($records.Count) error(s), $([math]::Round($clock.Elapsed.TotalSeconds, 1)) s; summary: $summary"
        $clock.Elapsed.TotalSeconds | Should -BeLessOrEqual 45
        $gets | Should -BeLessOrEqual 60
        $records.Count | Should -Be 1
        $stop.FullyQualifiedErrorId | Should -Be 'NenServerError,NenAi.Commands.WaitNenRunCommand'
        $summary.Outcomes.Failed | Should -Be 0
        $summary.Outcomes.NotFollowed | Should -Be 20
        $summary.Outcomes.Runs | Should -Be 20
        $stop.Exception.Message | Should -Match '20 not followed to the end'
    }

    It 'stops Get-NenRun in a status outage with one error and at most 60 GETs, every run it read accounted for' {
        $runs = New-Runs 20 'lookup'
        Set-Scenario 'status outage'
        $before = Get-Counts
        $stop = $null
        try { $runs | Get-NenRun @c -SummaryVariable summary -ErrorVariable lookupErrors | Out-Null }
        catch { $stop = $_ }
        $gets = (Get-Counts).Gets - $before.Gets
        $records = Join-ErrorRecords $lookupErrors $stop

        Write-Host "stage circuit ($Kind): 20 runs in a status outage, Get-NenRun: $gets GETs, $($records.Count) error(s); summary: $summary"
        $gets | Should -BeLessOrEqual 60
        $records.Count | Should -Be 1
        $stop.FullyQualifiedErrorId | Should -Be 'NenServerError,NenAi.Commands.GetNenRunCommand'
        $summary.Outcomes.Answered + $summary.Outcomes.StatusUnknown | Should -Be $summary.Outcomes.Runs
    }

    It 'sums each run up once when a refused key stops Wait-NenRun' {
        $runs = New-Runs 5 'key'
        $stop = $null
        try { $runs | Wait-NenRun @c -ApiKey (ConvertTo-SecretText 'stage-wrong-key') -PollIntervalSec 0.2 -SummaryVariable summary | Out-Null }
        catch { $stop = $_ }

        Write-Host "stage circuit ($Kind): 5 runs, refused key, Wait-NenRun: $summary"
        $stop.FullyQualifiedErrorId | Should -Be 'NenUnauthorized,NenAi.Commands.WaitNenRunCommand'
        $summary.Outcomes.Runs | Should -Be 5
        $summary.Outcomes.NotFollowed | Should -Be 5    # acceptance: "5 runs ... 10 not followed"
        $stop.Exception.Message | Should -Match 'Of 5 run\(s\).* 5 not followed'
        $stop.Exception.Message | Should -Not -Match 'stage-wrong-key'
    }

    It 'downloads 40 files at 250 ms latency in at most 4.5 s, -ThrottleLimit at a time' {
        $statuses = New-FinishedRuns 20 'files'
        Set-Scenario 'slow files'
        $before = Get-Counts
        $out = Join-Path $TestDrive "files-$Kind"
        $clock = [System.Diagnostics.Stopwatch]::StartNew()
        $files = $statuses | Get-NenRunResult @c -Destination $out
        $clock.Stop()
        $after = Get-Counts
        Set-Scenario 'healthy'

        Write-Host "stage circuit ($Kind): 40 files at 250 ms latency: $([math]::Round($clock.Elapsed.TotalSeconds, 2)) s, $($after.Downloads - $before.Downloads) downloads, at most $($after.MaxFilesInFlight) in flight (fake only)"
        @($files).Count | Should -Be 40
        $after.Downloads - $before.Downloads | Should -Be 40
        $clock.Elapsed.TotalSeconds | Should -BeLessOrEqual 4.5
        @($files | Where-Object { -not (Test-Path -LiteralPath $_.FullName) }) | Should -BeNullOrEmpty
        if ($Kind -eq 'fake') {
            $after.MaxFilesInFlight | Should -BeGreaterThan 1
            $after.MaxFilesInFlight | Should -BeLessOrEqual 8    # the default -ThrottleLimit
        }
    }

    It 'ends on storage that stalls within 40 s at -RequestTimeoutSec 2 with at most 3 errors, and the same command later saves every file' {
        $statuses = New-FinishedRuns 5 'stall'    # two files each: 10 downloads
        Set-Scenario 'stalled storage'
        $before = Get-Counts
        $out = Join-Path $TestDrive "stall-$Kind"
        $clock = [System.Diagnostics.Stopwatch]::StartNew()
        $stop = $null
        try { $statuses | Get-NenRunResult @c -Destination $out -RequestTimeoutSec 2 -SummaryVariable summary -ErrorVariable fileErrors | Out-Null }
        catch { $stop = $_ }
        $clock.Stop()
        $downloads = (Get-Counts).Downloads - $before.Downloads
        $records = Join-ErrorRecords $fileErrors $stop
        Set-Scenario 'healthy'
        $again = $statuses | Get-NenRunResult @c -Destination $out

        Write-Host "stage circuit ($Kind): 10 files on stalled storage at -RequestTimeoutSec 2: $([math]::Round($clock.Elapsed.TotalSeconds, 1)) s, $downloads downloads, $($records.Count) error(s): $($stop.FullyQualifiedErrorId); summary: $summary; afterwards $(@($again).Count) files saved"
        $clock.Elapsed.TotalSeconds | Should -BeLessOrEqual 40
        $records.Count | Should -BeLessOrEqual 3
        $stop.FullyQualifiedErrorId | Should -Be 'NenTimeout,NenAi.Commands.GetNenRunResultCommand'
        $summary.Outcomes.NotDownloaded | Should -Be 10
        $summary.Outcomes.Failed | Should -Be 0
        @($again).Count | Should -Be 10
        @($again | Where-Object { (Get-Item -LiteralPath $_.FullName).Length -ne $_.Length }) | Should -BeNullOrEmpty
    }
}
