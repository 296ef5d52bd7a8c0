#Requires -Version 7.4
# Acceptance, as a sysadmin meets it in real pwsh: a server that is not the Nen API answers every request (a captive
# portal's 200 text/html page, a 302 to a login or to https, a 418, a status read answered with text). Each stage ends
# with one error that says what came back, after a bounded number of requests (read from the server's own ledger), and
# the summary counts what is known: rows not sent or unknown, never "failed"; runs not followed. Against the emulator
# (its own process) and tests/fakes/fake_nen.py (independent, Python standard library). Each test prints its figures
# ("foreign answer: ...").

BeforeDiscovery {
    $script:servers = @(@{ Kind = 'emulator' }, @{ Kind = 'fake' })
}

BeforeAll {
    $script:root = Resolve-Path (Join-Path $PSScriptRoot '../..')
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-Module (Join-Path $script:root 'tools/EmulatorProcess.psm1') -Force
    Import-Module (Join-Path $script:root 'NenAi.psd1') -Force
    $script:workflow = '11111111-1111-1111-1111-111111111111'   # both servers' echo
    $script:portalPage = '<html><body>Please log in to the Hotel WiFi</body></html>'

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

Describe 'Answers that are not the Nen API''s trip the one circuit, against the <Kind>' -ForEach $servers {
    BeforeAll {
        if ($Kind -eq 'emulator') {
            $script:server = Start-EmulatorProcess -ConfigPath (Join-Path $PSScriptRoot 'emulator.pester.json')
            $script:c = @{ ApiKey = (ConvertTo-SecretText 'pester-api-key'); SigningKey = (ConvertTo-SecretText 'pester-signing-key'); NoProgress = $true }
        }
        else {
            $script:server = Start-FakeNen
            $script:c = @{ ApiKey = $script:server.ApiKey; NoProgress = $true }
        }
        $script:savedBaseUrl = $env:NEN_BASE_URL

        # What the server answers to every request of <Route> ('post' or 'get') from now on; $null: serve normally.
        function Set-Answer([string] $Route, [int] $Status, [string] $ContentType, [string] $Body, [string] $Location) {
            if ($Kind -eq 'emulator') {
                $base = $script:server.BaseUri
                Invoke-RestMethod -Method Post -Uri "$base/_emulator/faults/clear" | Out-Null
                if (-not $Status) { return }
                $headers = @{}
                if ($ContentType) { $headers['Content-Type'] = $ContentType }
                if ($Location) { $headers['Location'] = $Location }
                $fault = @{ kind = 'raw'; route = $(if ($Route -eq 'post') { 'POST /runs' } else { 'GET /runs' }); count = 1000000; statusCode = $Status; headers = $headers }
                if ($Body) { $fault.body = $Body }
                Invoke-RestMethod -Method Post -Uri "$base/_emulator/faults/next" -ContentType 'application/json' -Body ($fault | ConvertTo-Json -Depth 5) | Out-Null
            }
            else {
                if (-not $Status) { Set-FakeNenFault $script:server @{}; return }
                $fault = @{ status = $Status; body = $Body }
                if ($ContentType) { $fault.contentType = $ContentType }
                if ($Location) { $fault.headers = @{ Location = $Location } }
                Set-FakeNenFault $script:server @{ $Route = $fault }
            }
        }

        # POST /runs and GET /runs/{id} the server has received so far, and the runs it started.
        function Get-Counts {
            if ($Kind -eq 'emulator') {
                $l = Get-EmulatorLedger $script:server.BaseUri
                [pscustomobject]@{ Posts = [int]$l.requests.postRuns; Gets = [int]$l.requests.getRuns; Runs = [int]$l.accepted }
            }
            else {
                $l = Get-FakeNenLedger $script:server
                [pscustomobject]@{ Posts = [int]$l.requests.post; Gets = [int]$l.requests.get; Runs = @($l.runs).Count }
            }
        }

        # fifty.csv, as a sysadmin has it: JobId and NAME.
        function New-Csv([string] $Name) {
            $path = Join-Path $TestDrive "$Name.csv"
            1..50 | ForEach-Object { [pscustomobject]@{ JobId = "$_"; NAME = "$Name $_" } } | Export-Csv -LiteralPath $path -NoTypeInformation
            $path
        }

        # Import-Csv fifty.csv | Start-NenRun ... -JournalPath j.jsonl, the base URL from NEN_BASE_URL: its summary, every
        # error record, the requests it cost and the runs the server started.
        function Invoke-Fifty([string] $Name) {
            $csv = New-Csv $Name
            $before = Get-Counts
            $stop = $null
            $env:NEN_BASE_URL = $script:server.BaseUri
            try {
                Import-Csv -LiteralPath $csv | Start-NenRun @c -WorkflowId $script:workflow -KeyProperty JobId -ExcludeProperty JobId `
                    -JournalPath (Join-Path $TestDrive "$Name.jsonl") -SummaryVariable summary -ErrorVariable rowErrors | Out-Null
            }
            catch { $stop = $_ }
            finally { $env:NEN_BASE_URL = $script:savedBaseUrl }
            $after = Get-Counts
            [pscustomobject]@{ Summary = $summary; Errors = (Join-ErrorRecords $rowErrors $stop); Posts = $after.Posts - $before.Posts; Runs = $after.Runs - $before.Runs }
        }
    }

    AfterAll {
        $env:NEN_BASE_URL = $script:savedBaseUrl
        if ($Kind -eq 'emulator') { Stop-EmulatorProcess $script:server } else { Stop-FakeNen $script:server }
    }

    AfterEach { Set-Answer }

    It 'stops 50 rows answered by a captive portal (200 text/html) after at most 9 POSTs with one stop error, none counted failed' {
        Set-Answer post 200 'text/html' $portalPage
        $r = Invoke-Fifty 'portal'
        $stop = $r.Errors[-1]
        $unknown = @($r.Errors | Where-Object { $_.FullyQualifiedErrorId -like 'NenOutcomeUnknown,*' })

        Write-Host "foreign answer ($Kind): 50 rows, captive portal on POST: $($r.Posts) POSTs, $($r.Errors.Count) error(s) ($($unknown.Count) unknown); summary: $($r.Summary)"
        $r.Posts | Should -BeLessOrEqual 9
        $r.Posts | Should -BeGreaterOrEqual 5
        $stop.FullyQualifiedErrorId | Should -Be 'NenUnexpectedResponse,NenAi.Commands.StartNenRunCommand'
        $stop.CategoryInfo.Category | Should -Be 'InvalidResult'
        $stop.Exception.Message | Should -Match 'answered HTTP 200 OK with text/html, not the Nen API''s JSON'
        $stop.Exception.Message | Should -Match 'captive portal'
        $r.Errors.Count | Should -Be ($unknown.Count + 1)           # the rows sent, each with its Idempotency-Key, and one stop
        $unknown.Count | Should -Be $r.Posts
        @($unknown | Where-Object { $_.Exception.Message -match 'accepted' }) | Should -BeNullOrEmpty
        @($unknown | Where-Object { $_.Exception.Message -notmatch 'Idempotency-Key: ' }) | Should -BeNullOrEmpty
        $r.Summary.Outcomes.Failed | Should -Be 0
        $r.Summary.Outcomes.Unknown | Should -Be $r.Posts
        $r.Summary.Outcomes.NotSent | Should -Be (50 - $r.Posts)
    }

    It 'stops 50 rows answered with a redirect at once: one NenRedirected error naming the Location without its query, every row not sent' {
        Set-Answer post 302 -Location 'http://127.0.0.2:5399/runs?session=captive-7d1f'
        $r = Invoke-Fifty 'redirect'
        $stop = $r.Errors[-1]

        Write-Host "foreign answer ($Kind): 50 rows, 302 on POST: $($r.Posts) POSTs, $($r.Errors.Count) error(s); summary: $($r.Summary)"
        $r.Posts | Should -BeLessOrEqual 8                     # at most the requests already on the wire (-ThrottleLimit 8)
        $r.Errors.Count | Should -Be 1
        $stop.FullyQualifiedErrorId | Should -Be 'NenRedirected,NenAi.Commands.StartNenRunCommand'
        $stop.CategoryInfo.Category | Should -Be 'InvalidArgument'
        $stop.Exception.Message | Should -Match ([regex]::Escape('a redirect to http://127.0.0.2:5399/runs.'))
        $stop.Exception.Message | Should -Match '-BaseUri'
        $stop.Exception.Message | Should -Not -Match 'captive-7d1f'
        $r.Summary.Outcomes.NotSent | Should -Be 50
        $r.Summary.Outcomes.Failed | Should -Be 0
        $r.Runs | Should -Be 0
    }

    It 'stops 50 rows answered 418 after at most 10 POSTs with one NenHttpError, every row not sent' {
        Set-Answer post 418 'text/plain' 'I am a teapot'
        $r = Invoke-Fifty 'teapot'
        $stop = $r.Errors[-1]

        Write-Host "foreign answer ($Kind): 50 rows, 418 on POST: $($r.Posts) POSTs, $($r.Errors.Count) error(s); summary: $($r.Summary)"
        $r.Posts | Should -BeLessOrEqual 10  # the 8 on the wire and the streak's probe (or two)
        $r.Errors.Count | Should -Be 1
        $stop.FullyQualifiedErrorId | Should -Be 'NenHttpError,NenAi.Commands.StartNenRunCommand'
        $stop.Exception.Message | Should -Match 'HTTP 418'
        $r.Summary.Outcomes.NotSent | Should -Be 50
        $r.Summary.Outcomes.Failed | Should -Be 0
        $r.Runs | Should -Be 0
    }

    It 'gives one row a firewall refuses with 418 its own error and sends the other 19, one request at a time (fake)' -Skip:($Kind -ne 'fake') {
        # Acceptance: the refused row was sent five times, made the whole streak, and stopped the batch (14 rows not sent).
        Set-FakeNenFault $script:server @{ post = @{ status = 418; contentType = 'text/plain'; body = 'I am a teapot'; match = 'BADROW' } }
        $rows = 1..20 | ForEach-Object { [pscustomobject]@{ JobId = "J$_"; NAME = $(if ($_ -eq 7) { 'BADROW' } else { "fine $_" }) } }
        $before = Get-Counts
        $env:NEN_BASE_URL = $script:server.BaseUri
        try {
            $runs = @($rows | Start-NenRun @c -WorkflowId $script:workflow -KeyProperty JobId -ExcludeProperty JobId -ThrottleLimit 1 `
                -SummaryVariable summary -ErrorVariable rowErrors -ErrorAction SilentlyContinue)
        }
        finally { $env:NEN_BASE_URL = $script:savedBaseUrl }
        $after = Get-Counts

        Write-Host "foreign answer ($Kind): 20 rows, row 7 answered 418: $($after.Posts - $before.Posts) POSTs, $($rowErrors.Count) error(s); summary: $summary"
        $runs.Count | Should -Be 19
        $rowErrors.Count | Should -Be 1
        $rowErrors[0].FullyQualifiedErrorId | Should -Be 'NenHttpError,NenAi.Commands.StartNenRunCommand'
        $rowErrors[0].Exception.Message | Should -Match '^Row 7 \(JobId J7\)'
        ($after.Posts - $before.Posts) | Should -BeLessOrEqual 21
        $summary.Outcomes.Failed | Should -Be 1
        $summary.Outcomes.NotSent | Should -Be 0
    }

    It 'stops Wait-NenRun on 50 runs whose status reads are answered "not json at all" with one error and at most 30 GETs' {
        $env:NEN_BASE_URL = $script:server.BaseUri
        try {
            $runs = 1..50 | ForEach-Object { [pscustomobject]@{ NAME = "wait $_" } } | Start-NenRun @c -WorkflowId $script:workflow
            Set-Answer get 200 'text/plain' 'not json at all'
            $before = Get-Counts
            $stop = $null
            try { $runs | Wait-NenRun @c -PollIntervalSec 0.2 -SummaryVariable summary -ErrorVariable waitErrors | Out-Null }
            catch { $stop = $_ }
        }
        finally { $env:NEN_BASE_URL = $script:savedBaseUrl }
        $gets = (Get-Counts).Gets - $before.Gets
        $records = Join-ErrorRecords $waitErrors $stop

        Write-Host "foreign answer ($Kind): 50 runs, status reads answered 'not json at all': $gets GETs, $($records.Count) error(s); summary: $summary"
        @($runs).Count | Should -Be 50
        $gets | Should -BeLessOrEqual 30
        $records.Count | Should -Be 1
        $records[0].FullyQualifiedErrorId | Should -Be 'NenUnexpectedResponse,NenAi.Commands.WaitNenRunCommand'
        $summary.Outcomes.Runs | Should -Be 50
        $summary.Outcomes.Failed | Should -Be 0
        $summary.Outcomes.NotFollowed + $summary.Outcomes.StatusUnknown | Should -Be 50
    }
}
