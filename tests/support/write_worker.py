"""A writer process for the concurrency tests: ``rounds`` writes of 100 rows each.

mode ``append``: plain appends; ``merge``: MERGE replacing this worker's partition each round
(update, insert and delete by source), the pattern silver/gold use for a period.
"""

import sys

from ibrain import delta
from ibrain.lake import Lake
from ibrain.spark import spark_session


def main(mode: str, worker: int, rounds: int) -> None:
    lake = Lake()
    spark = spark_session(lake.settings)
    ref = lake.ref("bronze", "concurrency_probe")
    for i in range(rounds):
        rows = [(worker, i, j) for j in range(100)]
        df = spark.createDataFrame(rows, "worker int, round int, j int")
        if mode == "append":
            delta.append(spark, df, ref)
        else:
            delta.merge(
                spark,
                lake,
                df,
                ref,
                ["worker", "j"],
                replace_column="worker",
                replace_values=[worker],
                partition_by=["worker"],
            )
    print(f"worker {worker} done")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))
