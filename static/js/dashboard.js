/* The dashboard's charts: each element with data-chart names a <script type="application/json">
   holding its figures (Django's json_script), drawn with ECharts from the npm registry. */
(function () {
  "use strict";

  function percent(value) {
    return value === null || value === undefined ? "—" : value + "%";
  }

  // Progress over the year: the completion rate on each snapshot day, and the schedule's
  // milestones as a staircase (each rate holds from its due date on).
  function progressChart(element, data) {
    var chart = echarts.init(element, null, { renderer: "svg" });
    // The series' names come translated with the figures (data.labels).
    var labels = data.labels;
    chart.setOption({
      animation: false,
      tooltip: { trigger: "axis", valueFormatter: percent },
      legend: { data: [labels.rate, labels.milestones], top: 0 },
      grid: { left: 48, right: 24, top: 36, bottom: 32 },
      xAxis: { type: "time", min: data.start, max: data.end },
      yAxis: { type: "value", min: 0, max: 100, axisLabel: { formatter: "{value}%" } },
      series: [
        {
          name: labels.rate,
          type: "line",
          showSymbol: data.points.length < 40,
          data: data.points,
        },
        {
          name: labels.milestones,
          type: "line",
          step: "end",
          symbol: "diamond",
          lineStyle: { type: "dashed" },
          data: data.milestones,
          // The due dates as faint verticals; their names are in the tooltip and the badges
          // under the chart (close dates would write over each other here).
          markLine: {
            silent: true,
            symbol: "none",
            label: { show: false },
            lineStyle: { type: "dotted", opacity: 0.5 },
            data: data.milestone_marks,
          },
        },
      ],
    });
    window.addEventListener("resize", function () { chart.resize(); });
    element.setAttribute("data-rendered", "true");
  }

  var charts = { progress: progressChart };
  document.querySelectorAll("[data-chart]").forEach(function (element) {
    var source = document.getElementById(element.getAttribute("data-source"));
    var draw = charts[element.getAttribute("data-chart")];
    if (source && draw) {
      draw(element, JSON.parse(source.textContent));
    }
  });
})();
