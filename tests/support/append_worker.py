"""A writer process for the concurrency test: appends ``rounds`` batches of 100 rows."""

import sys

from ibrain import delta
from ibrain.lake import Lake
from ibrain.spark import spark_session


def main(worker: int, rounds: int) -> None:
    lake = Lake()
    spark = spark_session(lake.settings)
    ref = lake.ref("bronze", "concurrency_probe")
    for i in range(rounds):
        rows = [(worker, i, j) for j in range(100)]
        delta.append(spark, spark.createDataFrame(rows, "worker int, round int, j int"), ref)
    print(f"worker {worker} done")


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]))
